package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.hypercall.HypercallConfig;
import dev.jvmm.core.hypercall.sdei.SdeiEventSpec;
import dev.jvmm.core.hypercall.sdei.SdeiSnapshot;
import dev.jvmm.core.hypercall.sdei.SignalOutcome;
import dev.jvmm.core.hypercall.shared.SharedRegion;
import dev.jvmm.kvm.testing.BootTest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The boot tier for SDEI and the shared-region service with the bare-metal guests in
 * guest-images/baremetal (sdei-*.S, shared.S). Each guest checks the architectural side itself (the
 * registers its handlers see, what COMPLETE restores) and prints "<name>: ok" or "FAIL got .. want
 * .."; the host side injects events through {@link Machine#sdeiSignal} — the call the control API's
 * sdei-signal makes — and reads the shared-region list from the Machine.
 */
@BootTest
class HypercallBareMetalBootTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static HypercallConfig sdei(String... events) {
        return new HypercallConfig(
                true,
                java.util.Arrays.stream(events).map(SdeiEventSpec::parse).toList(),
                List.of(),
                false);
    }

    private static void assertPassed(GuestRun g, String prefix) throws InterruptedException {
        VmResult r = g.finish(WAIT);
        assertEquals(VmResult.Reason.POWEROFF, r.reason(), g.describe());
        assertTrue(g.console().contains(prefix + " PASS"), g.describe());
        assertFalse(g.console().contains("FAIL"), g.describe());
    }

    /**
     * (a) A host-injected event interrupts a spinning guest, which resumes exactly where it was.
     */
    @Test
    void hostInjectedEventIsHandledAndTheGuestResumes() throws Exception {
        try (GuestRun g = new GuestRun("sdei-inject.img", 1, 64, sdei("100,private,normal"))) {
            assertTrue(g.await("SDEI-READY", WAIT), g.describe());
            assertEquals(SignalOutcome.QUEUED, g.machine.sdeiSignal(100, 0));
            assertPassed(g, "SDEI-A");
            for (String ok :
                    List.of(
                            "handler x0 = event: ok",
                            "handler x1 = argument: ok",
                            "handler x2 = interrupted pc: ok",
                            "handler x3 = interrupted pstate: ok",
                            "handler daif masked: ok",
                            "EVENT_CONTEXT 0..17: ok",
                            "EVENT_CONTEXT 18 invalid: ok",
                            "x0..x17 restored: ok")) {
                assertTrue(g.console().contains(ok), ok + "\n" + g.describe());
            }
            SdeiSnapshot.Instance i =
                    g.machine.sdeiState().orElseThrow().events().get(1).instances().get(0);
            assertEquals(1, i.dispatches());
            assertEquals(1L, g.machine.hypercallCounts().get(0xC4000025L), "one EVENT_COMPLETE");
            assertEquals(19L, g.machine.hypercallCounts().get(0xC4000024L), "EVENT_CONTEXT 0..18");
        }
    }

    /**
     * A vCPU asleep in WFI, with no interrupt that could wake it, is kicked out of KVM's WFI block
     * and takes a host-raised event (the guest leaves with COMPLETE_AND_RESUME, so it never sleeps
     * again).
     */
    @Test
    void hostRaisedEventWakesAVcpuBlockedInWfi() throws Exception {
        try (GuestRun g = new GuestRun("sdei-wfi.img", 1, 64, sdei("100,private,normal"))) {
            assertTrue(g.await("SDEI-READY", WAIT), g.describe());
            Thread.sleep(500); // long enough for the vCPU to be blocked in WFI inside KVM_RUN
            assertEquals(SignalOutcome.QUEUED, g.machine.sdeiSignal(100, 0));
            assertPassed(g, "SDEI-W");
            assertTrue(g.console().contains("interrupted in the WFI loop: ok"), g.describe());
        }
    }

    /** (b) EVENT_SIGNAL from CPU 0 reaches CPU 1 (started with PSCI CPU_ON). */
    @Test
    void eventSignalFromCpu0ReachesCpu1() throws Exception {
        try (GuestRun g = new GuestRun("sdei-signal.img", 2, 64, sdei())) {
            assertPassed(g, "SDEI-B");
            assertTrue(g.console().contains("handler ran on cpu1: ok"), g.describe());
            SdeiSnapshot s = g.machine.sdeiState().orElseThrow();
            assertEquals(0, s.events().get(0).instances().get(0).dispatches(), "nothing on cpu0");
            assertEquals(1, s.events().get(0).instances().get(1).dispatches());
        }
    }

    /**
     * (c) EVENT_COMPLETE_AND_RESUME: ELR/SPSR_EL1 as if an IRQ had been taken at the interrupted
     * PC.
     */
    @Test
    void completeAndResumeEntersTheResumeAddress() throws Exception {
        try (GuestRun g = new GuestRun("sdei-resume.img", 1, 64, sdei())) {
            assertPassed(g, "SDEI-C");
            for (String ok :
                    List.of(
                            "ELR_EL1 = interrupted pc: ok",
                            "SPSR_EL1 = interrupted pstate: ok",
                            "x4..x17 restored: ok",
                            "resumed with daif masked: ok")) {
                assertTrue(g.console().contains(ok), ok + "\n" + g.describe());
            }
        }
    }

    /** (d) A critical event pre-empts a running normal one and completes back into it. */
    @Test
    void criticalEventPreemptsTheNormalHandler() throws Exception {
        try (GuestRun g =
                new GuestRun(
                        "sdei-critical.img",
                        1,
                        64,
                        sdei("100,private,normal", "200,private,critical"))) {
            assertTrue(g.await("SDEI-READY", WAIT), g.describe());
            assertEquals(SignalOutcome.QUEUED, g.machine.sdeiSignal(100, 0));
            assertTrue(g.await("SDEI-IN-NORMAL", WAIT), g.describe());
            assertEquals(List.of(100), g.machine.sdeiState().orElseThrow().pes().get(0).running());
            assertEquals(SignalOutcome.QUEUED, g.machine.sdeiSignal(200, 0));
            assertPassed(g, "SDEI-D");
            assertTrue(
                    g.console()
                            .contains("normal start, critical start, critical end, normal end: ok"),
                    g.describe());
        }
    }

    /** (e) The guest shares and unshares; the host's list is exactly the expected coalesced set. */
    @Test
    void sharedRegionsListIsExact() throws Exception {
        try (GuestRun g =
                new GuestRun(
                        "shared.img",
                        1,
                        64,
                        new HypercallConfig(false, List.of(), List.of(), true))) {
            assertTrue(g.await("SHARED DONE", WAIT), g.describe());
            String out = g.console();
            String ok2 = " x1=0x0000000000000000";
            String bad = "x0=0xfffffffffffffffd x1=0x0000000000000000";
            for (String line :
                    List.of(
                            "R sdei_version x0=0xffffffffffffffff"
                                    + ok2, // no --sdei: KVM's NOT_SUPPORTED
                            "R features(x0,x2) x0=0x000000000000001f x1=0x0000000000000000",
                            "R meminfo x0=0x0000000000001000 x1=0x0000000000000001",
                            "R share 0x80100000+4 x0=0x0000000000000000 x1=0x0000000000000004",
                            "R share 0x80104000+2 x0=0x0000000000000000 x1=0x0000000000000002",
                            "R share 0x80200000+0 x0=0x0000000000000000 x1=0x0000000000000001",
                            "R unshare 0x80101000+1 x0=0x0000000000000000 x1=0x0000000000000001",
                            "R share 0x80105000+1 " + bad,
                            "R unshare 0x80300000+1 " + bad,
                            "R share 0x80400800+1 " + bad,
                            "R share 0x40000000+1 " + bad,
                            "R share 0x83fff000+2 " + bad)) {
                assertTrue(out.contains(line + "\r\n"), "missing: " + line + "\n" + g.describe());
            }
            assertEquals(
                    List.of(
                            new SharedRegion(0x8010_0000L, 0x1000),
                            new SharedRegion(0x8010_2000L, 0x4000),
                            new SharedRegion(0x8020_0000L, 0x1000)),
                    g.machine.sharedRegions().orElseThrow().regions());
        }
    }

    /**
     * Without the services, the same calls are KVM's: NOT_SUPPORTED, and FEATURES is KVM's own
     * bitmap.
     */
    @Test
    void withoutServicesKvmAnswersAsBefore() throws Exception {
        try (GuestRun g = new GuestRun("shared.img", 1, 64, HypercallConfig.NONE)) {
            assertTrue(g.await("SHARED DONE", WAIT), g.describe());
            String out = g.console();
            assertTrue(out.contains("R sdei_version x0=0xffffffffffffffff"), g.describe());
            assertTrue(out.contains("R features(x0,x2) x0=0x0000000000000003"), g.describe());
            assertTrue(out.contains("R meminfo x0=0xffffffffffffffff"), g.describe());
            assertTrue(out.contains("R share 0x80100000+4 x0=0xffffffffffffffff"), g.describe());
            assertTrue(g.machine.sharedRegions().isEmpty());
            assertTrue(g.machine.hypercallCounts().isEmpty(), "nothing forwarded");
            assertThrows(IllegalStateException.class, () -> g.machine.sdeiSignal(0, 0));
        }
    }
}
