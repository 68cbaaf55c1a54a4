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
 * Kernel and initrd are opened once and held open: an in-place reboot reads the files that were
 * opened, whatever their paths name by then, and refuses, in one line, a file rewritten in place.
 */
@BootTest
class BootFilesBootTest {
    @Test
    void anInPlaceRebootBootsTheFilesOpenedAtStartAfterTheirPathsChanged(@TempDir Path dir)
            throws Exception {
        Path kernel = Files.copy(Path.of(image("Image")), dir.resolve("Image"));
        Path initrd = Files.copy(Path.of(image("initramfs.gz")), dir.resolve("initramfs.gz"));
        try (JvmmProcess p = rebootingRun(kernel, initrd)) {
            assertTrue(
                    p.awaitStdout("JVMM-BOOT-OK", Duration.ofSeconds(100)),
                    p.stdout() + p.stderr());
            // while the first guest sleeps: another file is renamed over the initrd's path, the
            // kernel removed
            Path junk = Files.writeString(dir.resolve("junk"), "not an initramfs");
            Files.move(junk, initrd, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.delete(kernel);
            // the second boot, from the files held open; then a user's SIGTERM ends the run (an
            // unattended run would go on rebooting until --timeout)
            boolean rebooted = p.awaitStdout("JVMM-BOOT-OK", 2, Duration.ofSeconds(150));
            p.signal("TERM");
            JvmmProcess.Result r = p.waitFor(Duration.ofMinutes(1));
            assertTrue(rebooted, "the reboot did not boot again\n" + r.describe());
            assertEquals(143, r.code(), r.describe());
            assertFalse(
                    r.err().contains("Exception") || r.err().contains("internal error"),
                    r.describe());
        }
    }

    @Test
    void anInPlaceRebootRefusesAnInitrdRewrittenInPlaceInOneLine(@TempDir Path dir)
            throws Exception {
        Path kernel = Files.copy(Path.of(image("Image")), dir.resolve("Image"));
        Path initrd = Files.copy(Path.of(image("initramfs.gz")), dir.resolve("initramfs.gz"));
        try (JvmmProcess p = rebootingRun(kernel, initrd)) {
            assertTrue(
                    p.awaitStdout("JVMM-BOOT-OK", Duration.ofSeconds(100)),
                    p.stdout() + p.stderr());
            Files.writeString(initrd, "not an initramfs any more"); // the same file, rewritten
            JvmmProcess.Result r = p.waitFor(Duration.ofMinutes(3));
            assertEquals(1, r.code(), r.describe());
            assertTrue(
                    r.err()
                            .contains(
                                    "cannot reboot: initrd " + initrd + ": was rewritten in place"),
                    r.describe());
            assertEquals(
                    1,
                    r.out().lines().filter(l -> l.contains("JVMM-BOOT-OK")).count(),
                    r.describe());
            assertFalse(
                    r.err().contains("Exception") || r.err().contains("internal error"),
                    r.describe());
        }
    }

    private static JvmmProcess rebootingRun(Path kernel, Path initrd) throws Exception {
        return JvmmProcess.start(
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
                "180s");
    }
}
