package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.testing.BootTest;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * --pmu in the boot tier: the bare-metal pmu.img reads the PMU registers itself (PMCR_EL0.N, the
 * cycle counter) or reports that they are UNDEFINED; pmu-reset.img does the same on every in-place
 * reboot; the stock Debian kernel finds (or does not find) its armv8_pmuv3 PMU. One run per
 * configuration.
 */
@BootTest
class PmuBootTest {
    private static final Duration LIMIT = Duration.ofSeconds(90);
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(3);

    /** The first value printed after {@code label} (pmu.img prints 0x + 16 hex digits). */
    private static long hex(String out, String label, JvmmProcess.Result r) {
        Matcher m = Pattern.compile(Pattern.quote(label) + "0x([0-9a-f]{16})").matcher(out);
        assertTrue(m.find(), "no " + label + "\n" + r.describe());
        return Long.parseUnsignedLong(m.group(1), 16);
    }

    @Test
    void withPmuTheCycleCounterCountsAndPmcrHasCounters() {
        JvmmProcess.Result r =
                JvmmProcess.run(
                        LIMIT,
                        "run",
                        "-k",
                        image("pmu.img"),
                        "-c",
                        "2", // KVM_RUN fails on any vCPU whose PMU was not initialised
                        "--pmu",
                        "--log-level",
                        "info");
        assertEquals(0, r.code(), r.describe());
        String out = r.out();
        assertTrue(hex(out, "PMUVER=", r) >= 1, "ID_AA64DFR0_EL1.PMUVer: PMUv3\n" + r.describe());
        long n = hex(out, "PMCR-N=", r);
        assertTrue(n > 0 && n <= 31, "PMCR_EL0.N = " + n + "\n" + r.describe());
        Matcher c = Pattern.compile("CYCLES=0x([0-9a-f]{16}) 0x([0-9a-f]{16})").matcher(out);
        assertTrue(c.find(), r.describe());
        long before = Long.parseUnsignedLong(c.group(1), 16);
        long after = Long.parseUnsignedLong(c.group(2), 16);
        assertTrue(
                after > before, "cycle counter " + before + " -> " + after + "\n" + r.describe());
        assertTrue(out.contains("PMU-OK"), r.describe());
        assertFalse(out.contains("EXCEPTION"), r.describe());
        assertTrue(
                r.err().contains("--pmu: PMUv3 on every vCPU, overflow interrupt PPI 7"),
                r.describe());
    }

    @Test
    void withoutPmuThePmuRegistersAreUndefined() {
        JvmmProcess.Result r = JvmmProcess.run(LIMIT, "run", "-k", image("pmu.img"));
        assertEquals(0, r.code(), r.describe());
        assertEquals(0, hex(r.out(), "PMUVER=", r), "no PMU advertised\n" + r.describe());
        assertTrue(r.out().contains("PMU-UNDEF"), r.describe());
        assertFalse(r.out().contains("PMCR-N="), r.describe());
        assertFalse(r.out().contains("PMU-OK"), r.describe());
    }

    /**
     * --on-reset reboot re-initialises every vCPU in place: the PMU KVM created must still work
     * (and KVM_RUN must not fail) on each boot. pmu-reset.img resets about 4 times a second.
     */
    @Test
    void thePmuWorksAfterEveryInPlaceReboot() {
        JvmmProcess.Result r =
                JvmmProcess.run(
                        LIMIT,
                        "run",
                        "-k",
                        image("pmu-reset.img"),
                        "-c",
                        "2",
                        "--pmu",
                        "--on-reset",
                        "reboot",
                        "--timeout",
                        "4s");
        assertEquals(124, r.code(), r.describe());
        long ok = r.out().lines().filter(l -> l.contains("PMU-OK")).count();
        assertTrue(ok >= 3, "PMU-OK on " + ok + " boots\n" + r.describe());
        assertFalse(r.out().contains("PMU-FAIL"), r.describe());
        assertFalse(r.out().contains("EXCEPTION"), r.describe());
    }

    private static JvmmProcess.Result debian(String shellCommand, String... extra) {
        String[] more = new String[extra.length + 2];
        more[0] = "-c";
        more[1] = "2";
        System.arraycopy(extra, 0, more, 2, extra.length);
        return JvmmProcess.run(BOOT_LIMIT, JvmmProcess.debian(shellCommand, more));
    }

    /** What the guest kernel says about its PMU: the perf driver's line, the event sources. */
    private static final String PMU_REPORT =
            "dmesg | grep -o 'hw perfevents: enabled with [a-z0-9_]*';"
                    + " echo SOURCES: $(ls /sys/bus/event_source/devices);"
                    + " for d in /sys/bus/event_source/devices/armv8_pmuv3*; do"
                    + " [ -e $d/cpus ] && echo PMU-CPUS=$(cat $d/cpus); done; true";

    @Test
    void debianKernelFindsItsArmv8PmuOnEveryVcpuWithPmu() {
        JvmmProcess.Result r = debian(PMU_REPORT, "--pmu");
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("JVMM-CMD-EXIT=0"), r.describe());
        assertTrue(r.out().contains("hw perfevents: enabled with armv8_pmuv3"), r.describe());
        Matcher m = Pattern.compile("SOURCES:.*\\barmv8_pmuv3\\w*").matcher(r.out());
        assertTrue(m.find(), r.describe());
        assertTrue(r.out().contains("PMU-CPUS=0-1"), "the PMU covers both vCPUs\n" + r.describe());
    }

    @Test
    void debianKernelHasNoPmuWithoutPmu() {
        JvmmProcess.Result r = debian(PMU_REPORT);
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("JVMM-CMD-EXIT=0"), r.describe());
        Matcher m = Pattern.compile("SOURCES:(.*)").matcher(r.out());
        assertTrue(m.find(), r.describe());
        assertTrue(m.group(1).contains("software"), "the listing ran\n" + r.describe());
        assertFalse(m.group(1).contains("armv8_pmuv3"), r.describe());
        assertFalse(r.out().contains("hw perfevents: enabled"), r.describe());
        assertFalse(r.out().contains("PMU-CPUS="), r.describe());
    }
}
