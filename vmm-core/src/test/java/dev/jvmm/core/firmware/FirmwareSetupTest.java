package dev.jvmm.core.firmware;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.UnsupportedRequestException;
import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.RegIds;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ordering rules against a vCPU that behaves like KVM (see {@link FakeFirmwareVcpu}). */
class FirmwareSetupTest {
    private final FakeFirmwareVcpu.Vm vm = FakeFirmwareVcpu.Vm.lab();
    private final FakeFirmwareVcpu v0 = new FakeFirmwareVcpu(vm, 0),
            v1 = new FakeFirmwareVcpu(vm, 1);

    private GuestFirmware decide(String hypercalls, String psci) {
        FirmwareConfig cfg =
                new FirmwareConfig(
                        HypercallSelection.parse(hypercalls),
                        true,
                        psci == null ? null : PsciVersion.parse(psci));
        return GuestFirmware.decide(cfg, HostFirmware.read(v0), w -> {});
    }

    @Test
    void readsTheHostFromAFreshVcpu() {
        HostFirmware h = HostFirmware.read(v0);
        assertEquals(PsciVersion.V1_1, h.psci());
        assertEquals(0x3L, h.bitmap(BitmapRegister.VENDOR_HYP).getAsLong());
        assertTrue(h.bitmap(BitmapRegister.VENDOR_HYP_2).isEmpty());
        assertTrue(h.pvTime());
    }

    @Test
    void writesOnlyWhatDiffersFromKvmsDefault() {
        FirmwareSetup s = new FirmwareSetup();
        s.writeRegisters(v0, decide("all", null));
        assertEquals(List.of(), vm.writes);
        FirmwareSetup s2 = new FirmwareSetup();
        s2.writeRegisters(v0, decide("-trng,-ptp", "1.0"));
        assertEquals(
                List.of(
                        "vcpu0 psci_version=0x10000",
                        "vcpu0 std_bmap=0x0",
                        "vcpu0 vendor_hyp_bmap=0x1"),
                vm.writes);
        assertEquals(0x1L, vm.regs.get(RegIds.VENDOR_HYP_BMAP));
    }

    @Test
    void nothingIsWrittenOnceSealed() {
        FirmwareSetup s = new FirmwareSetup();
        GuestFirmware fw = decide("-ptp", null);
        s.seal();
        vm.hasRun = true;
        var e = assertThrows(IllegalStateException.class, () -> s.writeRegisters(v0, fw));
        assertTrue(
                e.getMessage().startsWith("guest firmware is fixed once a vCPU has run"),
                e.getMessage());
        assertThrows(IllegalStateException.class, () -> s.setPvTimeIpa(v1, 0x1020040));
        assertEquals(List.of(), vm.writes, "jvmm never asked KVM");
        // what KVM itself would have said
        var kvm = assertThrows(KvmException.class, () -> v0.setOneReg(RegIds.VENDOR_HYP_BMAP, 0x1));
        assertEquals(Errno.EBUSY, kvm.errno());
    }

    @Test
    void registersAreWrittenOncePerVm() {
        FirmwareSetup s = new FirmwareSetup();
        s.writeRegisters(v0, decide("-ptp", null));
        assertThrows(IllegalStateException.class, () -> s.writeRegisters(v1, decide("-ptp", null)));
        assertEquals(List.of("vcpu0 vendor_hyp_bmap=0x1"), vm.writes);
    }

    @Test
    void pvTimeIpaIsSetExactlyOncePerVcpu() {
        FirmwareSetup s = new FirmwareSetup();
        s.setPvTimeIpa(v0, 0x1020000);
        s.setPvTimeIpa(v1, 0x1020040);
        var e = assertThrows(IllegalStateException.class, () -> s.setPvTimeIpa(v1, 0x1020040));
        assertEquals(
                "the PV-time IPA of vCPU 1 is already set (KVM allows it once)", e.getMessage());
        assertEquals(
                List.of("vcpu0 PVTIME_IPA=0x1020000", "vcpu1 PVTIME_IPA=0x1020040"), vm.writes);
        assertEquals(0x1020040L, v1.pvTimeIpa);
    }

    @Test
    void aPsciVersionKvmRefusesBecomesAUsageLevelError() {
        vm.psciMax = PsciVersion.V1_0; // reports 1.1 but refuses it: a KVM jvmm cannot predict
        GuestFirmware fw =
                new GuestFirmware(
                        PsciVersion.V1_1,
                        java.util.Optional.of(PsciVersion.V1_1),
                        ServiceBitmaps.hostDefault(HostFirmware.read(v0)),
                        false);
        var e =
                assertThrows(
                        UnsupportedRequestException.class,
                        () -> new FirmwareSetup().writeRegisters(v0, fw));
        assertEquals("--psci 1.1: this host's KVM refuses it (EINVAL)", e.getMessage());
    }
}
