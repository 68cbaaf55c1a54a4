package dev.jvmm.core.vm;

import static dev.jvmm.core.vm.GuestRun.occurrences;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.aarch64.CpuFeatures;
import dev.jvmm.core.arch.aarch64.Its;
import dev.jvmm.kvm.testing.BootTest;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The boot tier for --irqchip gicv3-its with the bare-metal guest guest-images/baremetal/its.S: the
 * guest programs the redistributor's LPI tables and the ITS (tables, command queue, MAPD / MAPC /
 * MAPTI / INV / SYNC) and waits; the host, acting as the device, raises the MSI with KVM_SIGNAL_MSI
 * at the ITS's GITS_TRANSLATER, and the guest must take exactly the LPI it mapped to that event.
 */
@BootTest
class ItsBareMetalBootTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    /** What its.S maps: device 0x10, event 3 to LPI 8234 (then off), event 4 to 8235 (reset). */
    private static final int DEVICE_ID = 0x10,
            EVENT_OFF = 3,
            EVENT_RESET = 4,
            EVENT_UNMAPPED = 5,
            LPI_OFF = 8234,
            LPI_RESET = 8235;

    /** How the guest's IRQ handler starts its line: "LPI <intid>". */
    private static final String LPI_LINE = "\nLPI ";

    private static final CpuFeatures ITS =
            new CpuFeatures(CpuFeatures.Irqchip.GICV3_ITS, false, true, true, false);

    private static final List<String> GUEST_CHECKS =
            List.of(
                    "fresh ITS and redistributor (stale-state bits): ok",
                    "redistributor supports LPIs: ok",
                    "redistributor LPIs enabled: ok",
                    "ITS supports physical LPIs: ok",
                    "ITS device and collection tables valid: ok",
                    "ITS enabled: ok",
                    "MAPD: ok",
                    "MAPC: ok",
                    "MAPTI event 3: ok",
                    "MAPTI event 4: ok",
                    "SYNC: ok");

    /** KVM_SIGNAL_MSI as the device DEVICE_ID would raise event {@code event}. */
    private static int signal(GuestRun g, int event) {
        Its its = g.machine.its().orElseThrow();
        return g.machine
                .vm()
                .signalMsi(its.doorbell(), event, DEVICE_ID, KvmUapi.KVM_MSI_VALID_DEVID());
    }

    @Test
    void anMsiFromTheHostArrivesAsTheLpiTheGuestMapped() throws Exception {
        try (GuestRun g = new GuestRun("its.img", 1, 64, ITS, VmConfig.OnReset.EXIT)) {
            assertTrue(g.await("ITS-READY", WAIT), g.describe());
            Its its = g.machine.its().orElseThrow();
            assertEquals(new Layout(64 * Layout.MIB, 1).gicIts(), its.frame());
            assertEquals(0x3ffb_0000L + 0x1_0040L, its.doorbell(), "the guest's GITS_TRANSLATER");
            assertTrue(its.msiNeedsDeviceId(), "KVM_CAP_MSI_DEVID once an ITS exists");
            // an event the guest never mapped: KVM reports it blocked and nothing reaches the guest
            assertEquals(0, signal(g, EVENT_UNMAPPED), "unmapped event");
            assertEquals(1, signal(g, EVENT_OFF), "KVM delivered the MSI");
            VmResult r = g.finish(WAIT);
            assertEquals(VmResult.Reason.POWEROFF, r.reason(), g.describe());
            for (String ok : GUEST_CHECKS)
                assertTrue(g.console().contains(ok), ok + "\n" + g.describe());
            assertTrue(g.console().contains("LPI " + LPI_OFF + "\r\n"), g.describe());
            assertEquals(1, occurrences(g.console(), LPI_LINE), "exactly one LPI\n" + g.describe());
            assertTrue(g.console().contains("ITS PASS"), g.describe());
            assertFalse(g.console().contains("FAIL"), g.describe());
        }
    }

    /**
     * --on-reset reboot: the rebooted guest must find the ITS and its redistributor as a new VM has
     * them (ITS disabled, no command queue or tables, LPIs off, no table addresses), map everything
     * again, and take the LPI again.
     */
    @Test
    void aRebootInPlaceGivesTheNextGuestAFreshIts() throws Exception {
        try (GuestRun g = new GuestRun("its.img", 1, 64, ITS, VmConfig.OnReset.REBOOT)) {
            assertTrue(g.await("ITS-READY", WAIT), g.describe());
            assertEquals(1, signal(g, EVENT_RESET), "first boot: the event that resets");
            assertTrue(g.await("ITS-READY", 2, WAIT), "second boot\n" + g.describe());
            assertEquals(1, signal(g, EVENT_OFF), "second boot: the event that powers off");
            VmResult r = g.finish(WAIT);
            assertEquals(VmResult.Reason.POWEROFF, r.reason(), g.describe());
            String c = g.console();
            assertEquals(2, occurrences(c, "ITS start"), g.describe());
            for (String ok : GUEST_CHECKS)
                assertEquals(2, occurrences(c, ok), "twice: " + ok + "\n" + g.describe());
            assertTrue(c.indexOf("LPI " + LPI_RESET) < c.lastIndexOf("ITS start"), g.describe());
            assertTrue(c.indexOf("LPI " + LPI_OFF) > c.lastIndexOf("ITS-READY"), g.describe());
            assertEquals(2, occurrences(c, LPI_LINE), "one LPI per boot\n" + g.describe());
            assertFalse(c.contains("FAIL"), g.describe());
        }
    }
}
