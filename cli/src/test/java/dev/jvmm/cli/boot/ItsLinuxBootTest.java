package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.testing.BootTest;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * --irqchip as the stock Debian kernel sees it (boot tier, one boot per configuration): with
 * gicv3-its the kernel finds the ITS at jvmm's address from the device tree, allocates its device
 * and collection tables and enables LPIs; without it, none of that. Plus the one-line refusal of
 * gicv2, which boots nothing.
 */
@BootTest
class ItsLinuxBootTest {
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(3);

    /** The kernel's ITS and LPI lines (drivers/irqchip/irq-gic-v3-its.c), for 1 vCPU. */
    private static final List<Pattern> ITS_LINES =
            List.of(
                    Pattern.compile("ITS \\[mem 0x3ffb0000-0x3ffcffff\\]"),
                    Pattern.compile("ITS@0x000000003ffb0000: allocated \\d+ Devices @"),
                    Pattern.compile(
                            "ITS@0x000000003ffb0000: allocated \\d+ Interrupt Collections @"),
                    Pattern.compile("GICv3: using LPI property table @0x"),
                    Pattern.compile("GICv3: CPU0: using allocated LPI pending table @0x"));

    private static JvmmProcess.Result boot(String... extra) {
        JvmmProcess.Result r =
                JvmmProcess.run(BOOT_LIMIT, JvmmProcess.debian("dmesg | grep -E 'ITS|LPI'", extra));
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("JVMM-CMD-EXIT="), r.describe());
        return r;
    }

    @Test
    void withGicv3ItsTheKernelUsesTheItsAndLpis() {
        JvmmProcess.Result r = boot("--irqchip", "gicv3-its");
        for (Pattern p : ITS_LINES) assertTrue(p.matcher(r.out()).find(), p + "\n" + r.describe());
    }

    @Test
    void withTheDefaultGicv3TheKernelFindsNoIts() {
        JvmmProcess.Result r = boot();
        for (Pattern p : ITS_LINES) assertFalse(p.matcher(r.out()).find(), p + "\n" + r.describe());
        // the GICv3 lines are there (the grep ran over a real log): only the ITS is missing
        assertTrue(r.out().contains("DirectLPI"), r.describe());
    }

    @Test
    void gicv2IsOneLineAndExit2BeforeAnythingStarts() {
        JvmmProcess.Result r =
                JvmmProcess.run(BOOT_LIMIT, "run", "-k", image("hello.img"), "--irqchip", "gicv2");
        assertEquals(2, r.code(), r.describe());
        assertEquals("", r.out(), "no guest console: nothing started\n" + r.describe());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), r.describe());
        assertTrue(err.startsWith("jvmm: --irqchip gicv2: "), r.describe());
        assertTrue(err.endsWith("; use --irqchip gicv3"), r.describe());
    }
}
