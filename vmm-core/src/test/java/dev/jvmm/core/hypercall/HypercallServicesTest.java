package dev.jvmm.core.hypercall;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.arch.DeviceTreeInput;
import dev.jvmm.core.hypercall.sdei.HandlerPstate;
import dev.jvmm.core.hypercall.sdei.SdeiEventSpec;
import dev.jvmm.core.hypercall.sdei.SignalOutcome;
import dev.jvmm.core.hypercall.shared.SharedRegion;
import dev.jvmm.core.hypercall.shared.SharedRegionService;
import java.util.List;
import org.junit.jupiter.api.Test;

class HypercallServicesTest {
    private static final HypercallServices.Platform LAB =
            new HypercallServices.Platform(
                    DeviceTreeInput.kvmDefaultMpidrs(2),
                    HandlerPstate.PLAIN,
                    0x8000_0000L,
                    256L << 20,
                    0x3,
                    0);

    private static FilterRange fwd(String r) {
        return new FilterRange(FunctionRange.parse(r), FilterRange.Action.FWD_TO_USER);
    }

    @Test
    void noServicesNoFilter() {
        HypercallServices s = HypercallServices.build(HypercallConfig.NONE, LAB);
        assertEquals(List.of(), s.router().filterRanges());
        assertTrue(s.sdei().isEmpty());
        assertTrue(s.sharedRegions().isEmpty());
        assertFalse(HypercallConfig.NONE.needsFilter());
    }

    @Test
    void everythingOn() {
        HypercallConfig cfg =
                new HypercallConfig(
                        true,
                        List.of(SdeiEventSpec.parse("100,shared,critical")),
                        List.of(FunctionRange.parse("0xC5000020+2")),
                        true);
        HypercallServices s = HypercallServices.build(cfg, LAB);
        assertEquals(
                List.of(
                        fwd("0x86000000"),
                        fwd("0xC4000020-0xC400003F"),
                        fwd("0xC5000020-0xC5000021"),
                        fwd("0xC6000002-0xC6000004")),
                s.router().filterRanges());
        assertEquals(SignalOutcome.NOT_REGISTERED, s.sdei().orElseThrow().inject(100, 0));

        FakeRegisters regs = new FakeRegisters();
        s.router().handle(0, 0x86000000, false, regs);
        assertEquals(0x1f, regs.x(0), "FEATURES: KVM's 0x3 plus MEMINFO/SHARE/UNSHARE");
        regs.call(SharedRegionService.MEM_SHARE, 0x8000_0000L, 2, 0);
        s.router().handle(1, SharedRegionService.MEM_SHARE, false, regs);
        assertEquals(
                List.of(new SharedRegion(0x8000_0000L, 8192)),
                s.sharedRegions().orElseThrow().regions().regions());
        s.reset();
        assertEquals(List.of(), s.sharedRegions().orElseThrow().regions().regions());
        assertEquals(1L, s.router().callCounts().get(0xC6000003L), "counters survive a reboot");
    }

    @Test
    void sharedRegionsNeedTheVendorRangeVisible() {
        HypercallConfig cfg = new HypercallConfig(false, List.of(), List.of(), true);
        HypercallServices.Platform hidden =
                new HypercallServices.Platform(
                        LAB.mpidrs(), HandlerPstate.PLAIN, LAB.ramBase(), LAB.ramBytes(), 0x2, 0);
        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class, () -> HypercallServices.build(cfg, hidden));
        assertTrue(
                e.getMessage().startsWith("--shared-regions: the VM's vendor_hyp bitmap 0x2 hides"),
                e.getMessage());
    }

    @Test
    void configValidation() {
        SdeiEventSpec ev = SdeiEventSpec.parse("5,private,normal");
        assertEquals(
                "--sdei-event 5,private,normal needs --sdei",
                assertThrows(
                                dev.jvmm.core.JvmmException.class,
                                () -> new HypercallConfig(false, List.of(ev), List.of(), false))
                        .getMessage());
        assertEquals(
                "--sdei-event 5 given twice",
                assertThrows(
                                dev.jvmm.core.JvmmException.class,
                                () ->
                                        new HypercallConfig(
                                                true,
                                                List.of(ev, SdeiEventSpec.parse("5,shared,normal")),
                                                List.of(),
                                                false))
                        .getMessage());
        assertTrue(
                assertThrows(
                                dev.jvmm.core.JvmmException.class,
                                () ->
                                        new HypercallConfig(
                                                false,
                                                List.of(),
                                                List.of(FunctionRange.parse("0x80000000+4")),
                                                false))
                        .getMessage()
                        .startsWith(
                                "--smccc deny=0x80000000-0x80000003 overlaps the Arm architecture calls"));
        assertTrue(
                new HypercallConfig(
                                false, List.of(), List.of(FunctionRange.parse("0xC4000020")), false)
                        .needsFilter());
    }
}
