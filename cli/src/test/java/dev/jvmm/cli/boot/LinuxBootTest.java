package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.guestCommand;
import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.testing.BootTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The boot tier with the stock Debian arm64 kernel and the test initramfs, run as a user runs
 * {@code jvmm run}: exit codes and console content. Every boot passes {@code quiet} (each console
 * byte is a trapped MMIO write; a full log costs many seconds in the lab). About 25 s per boot
 * there.
 */
@BootTest
class LinuxBootTest {
    /** Hard limit per boot: far above the ~25 s one takes in the lab, so only a hang trips it. */
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(3);

    private static JvmmProcess.Result boot(int cpus, String shellCommand, String... extra) {
        String[] args = {
            "run",
            "-k",
            image("Image"),
            "-i",
            image("initramfs.gz"),
            "-c",
            Integer.toString(cpus),
            "-m",
            "256",
            "-p",
            "quiet " + guestCommand(shellCommand)
        };
        String[] all = new String[args.length + extra.length];
        System.arraycopy(args, 0, all, 0, args.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        return JvmmProcess.run(BOOT_LIMIT, all);
    }

    @ParameterizedTest(name = "-c {0}")
    @ValueSource(ints = {1, 2, 4})
    void everyVcpuComesOnlineAndPoweroffExitsZero(int cpus) {
        JvmmProcess.Result r = boot(cpus, "echo CPUS=$(grep -c ^processor /proc/cpuinfo)");
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("JVMM-BOOT-OK"), r.describe());
        assertTrue(
                r.out().contains("CPUS=" + cpus + "\r\n")
                        || r.out().contains("CPUS=" + cpus + "\n"),
                r.describe());
        assertTrue(r.out().contains("JVMM-CMD-EXIT=0"), r.describe());
        assertFalse(r.err().contains("Exception"), r.describe());
    }

    /**
     * One boot proves two things: reboot is exit 32, and --serial file= takes the console off
     * stdout.
     */
    @Test
    void rebootExits32AndSerialFileGetsTheConsole(@TempDir Path dir) throws IOException {
        Path console = dir.resolve("console.log");
        JvmmProcess.Result r = boot(1, "reboot -f", "--serial", "file=" + console);
        assertEquals(32, r.code(), r.describe());
        assertEquals(
                "",
                r.out(),
                "stdout must carry only the console, which went to the file\n" + r.describe());
        String log = Files.readString(console);
        assertTrue(log.contains("JVMM-BOOT-OK"), "console file:\n" + log + "\n" + r.describe());
        assertFalse(log.contains("JVMM-CMD-EXIT"), "reboot -f returned:\n" + log);
        assertTrue(r.err().contains("(exit 32)"), r.describe());
    }

    /** --on-reset reboot restarts the same VM in place (vCPUs re-initialised, images reloaded). */
    @Test
    void onResetRebootBootsAgainInPlaceUntilTheTimeout() {
        JvmmProcess.Result r = boot(1, "reboot -f", "--on-reset", "reboot", "--timeout", "45s");
        assertEquals(124, r.code(), r.describe());
        long boots = r.out().lines().filter(l -> l.contains("JVMM-BOOT-OK")).count();
        assertTrue(
                boots >= 2,
                "expected at least two boots in one process, saw " + boots + "\n" + r.describe());
        assertTrue(r.err().contains("(exit 124)"), r.describe());
    }

    @Test
    void kernelPanicExits34() {
        JvmmProcess.Result r = boot(1, "echo c > /proc/sysrq-trigger");
        assertEquals(34, r.code(), r.describe());
        assertTrue(r.out().contains("JVMM-BOOT-OK"), r.describe());
        assertTrue(r.out().contains("Kernel panic"), r.describe());
        assertFalse(r.out().contains("JVMM-CMD-EXIT"), r.describe());
        assertTrue(r.err().contains("(exit 34)"), r.describe());
    }
}
