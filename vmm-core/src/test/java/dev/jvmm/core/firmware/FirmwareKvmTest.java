package dev.jvmm.core.firmware;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.VcpuExit;
import dev.jvmm.kvm.testing.A64;
import dev.jvmm.kvm.testing.KvmTest;
import dev.jvmm.kvm.testing.TinyGuest;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The firmware ordering rules on real arm64 KVM (kvm tier): what KVM refuses after the first run,
 * and that jvmm's FirmwareSetup issues each write once and nothing after the seal (counted at the
 * port).
 */
@KvmTest
class FirmwareKvmTest {
    private static final int X19 = 19;

    /** One MMIO store (an exit the test can see), then a branch to self. */
    private static final byte[] STORE_AND_SPIN =
            new A64().mov64(X19, TinyGuest.MMIO).emit(A64.strX(0, X19, 0)).emit(A64.b(0)).bytes();

    private static final int PVTIME = KvmUapi.KVM_ARM_VCPU_PVTIME_CTRL();
    private static final long IPA = KvmUapi.KVM_ARM_VCPU_PVTIME_IPA();

    /** The real vCPU, with every write jvmm issues through it logged. */
    private static final class CountingPort implements FirmwarePort {
        final FirmwarePort real;
        final List<String> writes = new ArrayList<>();

        CountingPort(Vcpu vcpu) {
            this.real = FirmwarePort.of(vcpu);
        }

        @Override
        public int id() {
            return real.id();
        }

        @Override
        public int tryGetOneReg(long regId, long[] out) {
            return real.tryGetOneReg(regId, out);
        }

        @Override
        public boolean hasAttribute(int group, long attribute) {
            return real.hasAttribute(group, attribute);
        }

        @Override
        public void setOneReg(long regId, long value) {
            writes.add(RegIds.nameOf(regId) + "=0x" + Long.toHexString(value));
            real.setOneReg(regId, value);
        }

        @Override
        public void setAttributeU64(int group, long attribute, long value, String what) {
            writes.add("PVTIME_IPA=0x" + Long.toHexString(value));
            real.setAttributeU64(group, attribute, value, what);
        }
    }

    @Test
    void registersAreWrittenBeforeTheRunOnceAndAChangeAfterItIsNeverAttempted() {
        try (TinyGuest g = new TinyGuest(STORE_AND_SPIN)) {
            CountingPort p = new CountingPort(g.vcpu);
            HostFirmware host = HostFirmware.read(p);
            assertEquals(PsciVersion.V1_1, host.psci(), "the lab's 6.12 KVM");
            GuestFirmware fw =
                    GuestFirmware.decide(
                            new FirmwareConfig(
                                    HypercallSelection.parse("-trng,-ptp"), true, PsciVersion.V1_0),
                            host,
                            w -> {});
            FirmwareSetup setup = new FirmwareSetup();
            setup.writeRegisters(p, fw);
            assertEquals(
                    List.of("psci_version=0x10000", "std_bmap=0x0", "vendor_hyp_bmap=0x1"),
                    p.writes);
            assertEquals(0x10000L, g.vcpu.getOneReg(RegIds.PSCI_VERSION));
            assertEquals(0x0L, g.vcpu.getOneReg(RegIds.STD_BMAP));
            assertEquals(
                    0x1L, g.vcpu.getOneReg(RegIds.STD_HYP_BMAP), "untouched: still KVM's default");
            assertEquals(0x1L, g.vcpu.getOneReg(RegIds.VENDOR_HYP_BMAP));

            setup.seal();
            assertInstanceOf(VcpuExit.Mmio.class, g.vcpu.run());
            var refused =
                    assertThrows(IllegalStateException.class, () -> setup.writeRegisters(p, fw));
            assertTrue(
                    refused.getMessage().startsWith("guest firmware is fixed once a vCPU has run"),
                    refused.getMessage());
            assertEquals(3, p.writes.size(), "nothing was asked of KVM after the run: " + p.writes);

            // what KVM would have answered: a changed bitmap is EBUSY now, the same value is still
            // accepted
            var busy =
                    assertThrows(
                            KvmException.class,
                            () -> g.vcpu.setOneReg(RegIds.VENDOR_HYP_BMAP, 0x3));
            assertEquals(Errno.EBUSY, busy.errno());
            g.vcpu.setOneReg(RegIds.VENDOR_HYP_BMAP, 0x1);

            // an in-place reboot re-initialises the vCPU: the VM-wide firmware state must survive
            // it
            g.vcpu.init(g.vm.preferredTarget(), Vcpu.FEATURE_PSCI_0_2);
            assertEquals(0x10000L, g.vcpu.getOneReg(RegIds.PSCI_VERSION));
            assertEquals(0x0L, g.vcpu.getOneReg(RegIds.STD_BMAP));
            assertEquals(0x1L, g.vcpu.getOneReg(RegIds.VENDOR_HYP_BMAP));
        }
    }

    @Test
    void pvTimeIpaIsSetOncePerVcpuAndKvmKeepsItAcrossVcpuReinit() {
        try (TinyGuest g = new TinyGuest(STORE_AND_SPIN);
                PvTimeRegion pv = PvTimeRegion.map(g.vm, 1, new Layout(16 * Layout.MIB, 1))) {
            CountingPort p = new CountingPort(g.vcpu);
            FirmwareSetup setup = new FirmwareSetup();
            long ipa = pv.records().address(0);
            assertEquals(Layout.PVTIME_BASE, ipa);
            setup.setPvTimeIpa(p, ipa);
            assertEquals(ipa, g.vcpu.getAttributeU64(PVTIME, IPA, "PVTIME_IPA"));
            assertThrows(IllegalStateException.class, () -> setup.setPvTimeIpa(p, ipa));
            assertEquals(List.of("PVTIME_IPA=0x1020000"), p.writes, "jvmm set it exactly once");
            var exists =
                    assertThrows(
                            KvmException.class,
                            () -> g.vcpu.setAttributeU64(PVTIME, IPA, ipa + 64, "PVTIME_IPA"));
            assertEquals(Errno.EEXIST, exists.errno(), "KVM's own rule: once per vCPU");

            setup.seal();
            assertInstanceOf(VcpuExit.Mmio.class, g.vcpu.run());
            assertEquals(
                    0,
                    pv.memory().get(java.lang.foreign.ValueLayout.JAVA_INT, 0),
                    "record revision 0");
            g.vcpu.init(g.vm.preferredTarget(), Vcpu.FEATURE_PSCI_0_2);
            assertEquals(
                    ipa,
                    g.vcpu.getAttributeU64(PVTIME, IPA, "PVTIME_IPA"),
                    "KVM_ARM_VCPU_INIT keeps the IPA, so a reboot must not set it again");
            var again =
                    assertThrows(
                            KvmException.class,
                            () -> g.vcpu.setAttributeU64(PVTIME, IPA, ipa, "PVTIME_IPA"));
            assertEquals(Errno.EEXIST, again.errno());
        }
    }
}
