package dev.jvmm.kvm.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hand encoder must agree bit for bit with Debian's aarch64 cross assembler. */
class A64Test {
    @Test
    void encodingsMatchTheCrossAssembler(@TempDir Path dir) throws Exception {
        String asm =
                """
                movz x1, #0x1234
                movz x19, #0xbeef, lsl #16
                movk x2, #0xffff, lsl #48
                movk x30, #0x1, lsl #32
                str x3, [x19]
                str x0, [x19, #8]
                str x5, [x19, #256]
                str w4, [x19, #12]
                strb w6, [x7, #5]
                ldr x8, [x9, #16]
                mov x10, x11
                hvc #0
                smc #0
                hvc #0x1234
                b .
                b . + 8
                b . - 4
                nop
                """;
        A64 a =
                new A64()
                        .emit(A64.movz(1, 0x1234, 0))
                        .emit(A64.movz(19, 0xbeef, 1))
                        .emit(A64.movk(2, 0xffff, 3))
                        .emit(A64.movk(30, 1, 2))
                        .emit(A64.strX(3, 19, 0))
                        .emit(A64.strX(0, 19, 8))
                        .emit(A64.strX(5, 19, 256))
                        .emit(A64.strW(4, 19, 12))
                        .emit(A64.strB(6, 7, 5))
                        .emit(A64.ldrX(8, 9, 16))
                        .emit(A64.movX(10, 11))
                        .emit(A64.hvc(0))
                        .emit(A64.smc(0))
                        .emit(A64.hvc(0x1234))
                        .emit(A64.b(0))
                        .emit(A64.b(8))
                        .emit(A64.b(-4))
                        .emit(A64.NOP);
        assertArrayEquals(assemble(dir, asm), a.bytes());
    }

    @Test
    void mov64SkipsZeroHalfwords() {
        A64 a = new A64().mov64(0, 0xC4000020L);
        assertEquals(8, a.bytes().length); // movz low + movk hw1; hw2/hw3 are zero
    }

    static byte[] assemble(Path dir, String source) throws IOException, InterruptedException {
        Path s = dir.resolve("t.s"), o = dir.resolve("t.o"), bin = dir.resolve("t.bin");
        Files.writeString(s, source);
        run(dir, "aarch64-linux-gnu-as", "-o", o.toString(), s.toString());
        run(
                dir,
                "aarch64-linux-gnu-objcopy",
                "-O",
                "binary",
                "-j",
                ".text",
                o.toString(),
                bin.toString());
        return Files.readAllBytes(bin);
    }

    private static void run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException(
                    cmd[0] + " not found: run scripts/setup-host.sh (binutils-aarch64-linux-gnu)",
                    e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0)
            throw new IOException(cmd[0] + " failed: " + out);
    }
}
