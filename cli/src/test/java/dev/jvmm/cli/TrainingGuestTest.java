package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jvmm.core.boot.KernelImage;
import dev.jvmm.kvm.testing.A64;
import dev.jvmm.kvm.testing.BootTest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The AOT training guest: what its words encode, that jvmm accepts it, and (boot tier) its run. */
class TrainingGuestTest {
    @Test
    void codeIsTheUartWriteAndSystemOffTheCrossCheckedEncoderGives() {
        A64 a =
                new A64()
                        .emit(A64.movz(19, 0, 0))
                        .emit(A64.movk(19, 0x0100, 1)) // the layout's UART at 0x0100_0000
                        .emit(A64.movz(1, '.', 0))
                        .emit(A64.strB(1, 19, 0))
                        .emit(A64.movz(0, 0x0008, 0))
                        .emit(A64.movk(0, 0x8400, 1)) // PSCI SYSTEM_OFF 0x8400_0008
                        .emit(A64.hvc(0))
                        .emit(A64.b(0));
        A64 ours = new A64();
        for (int word : TrainingGuest.code()) ours.emit(word);
        assertArrayEquals(a.bytes(), ours.bytes());
    }

    @Test
    void idleCodeIsTheUartWriteThenAWfiLoop() {
        A64 a =
                new A64()
                        .emit(A64.movz(19, 0, 0))
                        .emit(A64.movk(19, 0x0100, 1))
                        .emit(A64.movz(1, '.', 0))
                        .emit(A64.strB(1, 19, 0))
                        .emit(0xd503207f) // wfi (ARM ARM C6.2.399)
                        .emit(A64.b(-4));
        A64 ours = new A64();
        for (int word : TrainingGuest.idleCode()) ours.emit(word);
        assertArrayEquals(a.bytes(), ours.bytes());
    }

    @Test
    void imageIsAnArm64ImageWhoseEntryBranchesToTheCode() throws Exception {
        byte[] image = TrainingGuest.image();
        KernelImage k = KernelImage.parse(Path.of("train.img"), image, 1 << 20);
        assertEquals(image.length, k.length());
        A64 branch = new A64().emit(A64.b(TrainingGuest.HEADER_SIZE));
        assertArrayEquals(branch.bytes(), java.util.Arrays.copyOf(image, 4));
    }

    @Test
    @BootTest
    void guestWritesItsByteAndPowersOff(@TempDir Path dir) throws Exception {
        Path kernel = Files.write(dir.resolve("train.img"), TrainingGuest.image());
        Path console = dir.resolve("console.txt");
        StringWriter err = new StringWriter();
        int code =
                Main.execute(
                        new String[] {
                            "run", "-k", kernel.toString(), "--serial", "file=" + console
                        },
                        new PrintWriter(new StringWriter()),
                        new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        assertEquals(".", Files.readString(console));
    }

    @Test
    @BootTest
    void aotTrainRunsTheGuestToPowerOff() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code =
                Main.execute(
                        new String[] {"aot-train"},
                        new PrintWriter(out, true),
                        new PrintWriter(err, true));
        // where /dev/kvm runs arm64 guests, aot-train's status is its guest run's: 0 = SYSTEM_OFF
        assertEquals(0, code, err.toString());
        assertEquals("", out.toString());
        // and its snapshot and restore of the idle guest completed (else it says so on stderr)
        assertEquals("", err.toString());
    }
}
