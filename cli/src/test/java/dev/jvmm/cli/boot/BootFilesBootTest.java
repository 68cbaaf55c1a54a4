package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.guestCommand;
import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.testing.BootTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kernel and initrd are read once: an in-place reboot boots those bytes whatever happened to the
 * files.
 */
@BootTest
class BootFilesBootTest {
    @Test
    void anInPlaceRebootBootsTheBytesReadAtStartAfterTheFilesChanged(@TempDir Path dir)
            throws Exception {
        Path kernel = Files.copy(Path.of(image("Image")), dir.resolve("Image"));
        Path initrd = Files.copy(Path.of(image("initramfs.gz")), dir.resolve("initramfs.gz"));
        try (JvmmProcess p =
                JvmmProcess.start(
                        "run",
                        "-k",
                        kernel.toString(),
                        "-i",
                        initrd.toString(),
                        "-m",
                        "256",
                        "-p",
                        "quiet " + guestCommand("sleep 3; reboot -f"),
                        "--serial",
                        "stdio",
                        "--on-reset",
                        "reboot",
                        "--timeout",
                        "100s")) {
            assertTrue(
                    p.awaitStdout("JVMM-BOOT-OK", Duration.ofSeconds(100)),
                    p.stdout() + p.stderr());
            // while the first guest sleeps: the initrd is rewritten shorter in place, the kernel
            // removed
            Files.write(
                    initrd,
                    "not an initramfs any more"
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            Files.delete(kernel);
            JvmmProcess.Result r = p.waitFor(Duration.ofMinutes(3));
            assertEquals(124, r.code(), r.describe());
            long boots = r.out().lines().filter(l -> l.contains("JVMM-BOOT-OK")).count();
            assertTrue(
                    boots >= 2,
                    "the reboot did not boot again: " + boots + " boot(s)\n" + r.describe());
            assertFalse(
                    r.err().contains("Exception") || r.err().contains("internal error"),
                    r.describe());
        }
    }
}
