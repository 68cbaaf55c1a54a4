package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.guestCommand;
import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.testing.BootTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * PV stolen time, hypercall service selection and --mem-lock as the stock Debian kernel sees them
 * (boot tier). Each boot runs the same guest script: it reports the PV-time line of the kernel log,
 * whether the TRNG and KVM PTP devices exist, then asks the host for a CPU hog, waits for it and
 * spins for a few seconds, reading the steal column of /proc/stat before and after. The test pins
 * all of jvmm's threads and the hog to the same L1 CPU, so the vCPU thread loses about half its
 * time.
 */
@BootTest
class FirmwareBootTest {
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(4);
    private static final String TRNG = "/sys/bus/platform/devices/smccc_trng",
            PTP = "/sys/class/ptp/ptp0";
    private static final String PV_LINE = "arm-pv: using stolen time PV";

    /** The L1 CPU jvmm and the hog share (the lab's L1 has two). */
    private static final String SHARED_CPU = "1";

    private static final String GUEST_SCRIPT =
            String.join(
                    "\n",
                    "dmesg | grep -o 'arm-pv: .*'",
                    "for f in "
                            + TRNG
                            + " "
                            + PTP
                            + "; do if [ -e $f ]; then echo HAVE=$f; else echo LACK=$f; fi; done",
                    "echo HOG-PLEASE",
                    "sleep 3",
                    "s0=$(awk '/^cpu /{print $9}' /proc/stat)",
                    "end=$(( $(date +%s) + 5 ))",
                    "while [ $(date +%s) -lt $end ]; do :; done",
                    "s1=$(awk '/^cpu /{print $9}' /proc/stat)",
                    "echo STEAL=$s0,$s1");
    private static final Pattern STEAL = Pattern.compile("STEAL=(\\d+),(\\d+)");

    /** A finished boot, with jvmm's VmLck (KiB) sampled while the guest ran. */
    private record Boot(JvmmProcess.Result result, long vmLckKib) {
        long stealBefore() {
            return steal(1);
        }

        long stealAfter() {
            return steal(2);
        }

        private long steal(int group) {
            Matcher m = STEAL.matcher(result.out());
            assertTrue(m.find(), "no STEAL= line\n" + result.describe());
            return Long.parseLong(m.group(group));
        }

        boolean has(String path) {
            assertTrue(
                    result.out().contains("HAVE=" + path) || result.out().contains("LACK=" + path),
                    result.describe());
            return result.out().contains("HAVE=" + path);
        }
    }

    private static Boot bootWithHog(String... extra) throws IOException, InterruptedException {
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "run",
                                "-k",
                                image("Image"),
                                "-i",
                                image("initramfs.gz"),
                                "-c",
                                "1",
                                "-m",
                                "256",
                                "-p",
                                "quiet " + guestCommand(GUEST_SCRIPT)));
        args.addAll(List.of(extra));
        try (JvmmProcess p = JvmmProcess.start(args.toArray(String[]::new))) {
            assertTrue(
                    p.awaitStdout("HOG-PLEASE", BOOT_LIMIT),
                    "guest never asked for the hog\n"
                            + p.stdout()
                            + "\n--- stderr ---\n"
                            + p.stderr());
            long vmLck = vmLckKib(p.pid());
            exec("taskset", "-a", "-p", "-c", SHARED_CPU, Long.toString(p.pid()));
            Process hog =
                    new ProcessBuilder(
                                    "taskset", "-c", SHARED_CPU, "sh", "-c", "while :; do :; done")
                            .start();
            try {
                return new Boot(p.waitFor(BOOT_LIMIT), vmLck);
            } finally {
                hog.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void defaultRunGivesPvStolenTimeTrngAndPtpAndMemLockPinsRam() throws Exception {
        Boot b = bootWithHog("--mem-lock");
        JvmmProcess.Result r = b.result();
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains(PV_LINE), r.describe());
        assertTrue(b.has(TRNG), r.describe());
        assertTrue(b.has(PTP), r.describe());
        // ticks of 10 ms: a vCPU sharing its CPU with a hog for 5 s loses far more than 0.5 s
        assertTrue(
                b.stealAfter() - b.stealBefore() >= 50,
                "steal grew by " + (b.stealAfter() - b.stealBefore()) + " ticks\n" + r.describe());
        assertTrue(b.vmLckKib() >= 256 * 1024, "VmLck " + b.vmLckKib() + " kB\n" + r.describe());
        System.out.printf(
                "steal grew by %d ticks over the 5 s spin; VmLck %d kB%n",
                b.stealAfter() - b.stealBefore(), b.vmLckKib());
    }

    @Test
    void noPvtimeAndMinusTrngHideBothFromTheGuest() throws Exception {
        Boot b = bootWithHog("--no-pvtime", "--hypercalls", "-trng");
        JvmmProcess.Result r = b.result();
        assertEquals(0, r.code(), r.describe());
        assertFalse(r.out().contains("arm-pv:"), r.describe());
        assertEquals(0, b.stealBefore(), r.describe());
        assertEquals(
                0,
                b.stealAfter(),
                "no stolen time without PV time, even under the hog\n" + r.describe());
        assertFalse(b.has(TRNG), r.describe());
        assertTrue(b.has(PTP), r.describe());
        assertEquals(0, b.vmLckKib(), "nothing locked without --mem-lock");
    }

    @Test
    void minusPvTimeAndMinusPtpHideBothFromTheGuest() throws Exception {
        Boot b = bootWithHog("--hypercalls", "-pv-time,-ptp");
        JvmmProcess.Result r = b.result();
        assertEquals(0, r.code(), r.describe());
        assertFalse(r.out().contains("arm-pv:"), r.describe());
        assertEquals(0, b.stealAfter(), r.describe());
        assertTrue(b.has(TRNG), r.describe());
        assertFalse(b.has(PTP), r.describe());
    }

    /** Without CAP_IPC_LOCK and with a 64 KiB soft limit: one line, exit 2, and no guest at all. */
    @Test
    void memLockOverTheLimitIsOneLineBeforeAnythingStarts() {
        JvmmProcess.Result r =
                JvmmProcess.run(
                        Duration.ofMinutes(2),
                        List.of(
                                "setpriv",
                                "--bounding-set",
                                "-ipc_lock",
                                "prlimit",
                                "--memlock=65536:unlimited",
                                "--"),
                        "run",
                        "-k",
                        image("Image"),
                        "-i",
                        image("initramfs.gz"),
                        "-m",
                        "256",
                        "--mem-lock");
        assertEquals(2, r.code(), r.describe());
        assertEquals("", r.out(), "no guest console: nothing started\n" + r.describe());
        assertEquals(
                "jvmm: --mem-lock: RLIMIT_MEMLOCK is 64 KiB, too low to lock 262208 KiB (256 MiB RAM + 64 KiB"
                        + " PV-time records); raise it with 'ulimit -l 262208' (or 'ulimit -l unlimited') before starting jvmm,"
                        + " or give jvmm CAP_IPC_LOCK",
                r.err().strip(),
                r.describe());
    }

    private static long vmLckKib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmLck:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        throw new AssertionError("no VmLck in /proc/" + pid + "/status");
    }

    private static void exec(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
