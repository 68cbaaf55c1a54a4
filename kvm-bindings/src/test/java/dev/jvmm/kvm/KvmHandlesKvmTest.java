package dev.jvmm.kvm;

import static dev.jvmm.kvm.testing.TinyGuest.MMIO;
import static dev.jvmm.kvm.testing.TinyGuest.RAM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.testing.A64;
import dev.jvmm.kvm.testing.KvmTest;
import dev.jvmm.kvm.testing.TinyGuest;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The handle layer on real arm64 KVM, with hand-assembled guests (kvm tier: runs in the lab). */
@KvmTest
class KvmHandlesKvmTest {
    /**
     * SMCCC function IDs are 32-bit; kept as a long so it never sign-extends into x0 or the exit.
     */
    private static final long SDEI_VERSION = 0xC4000020L;

    private static final int X19 = 19;

    /** x19 = MMIO base; KVM's SMCCC handling overwrites x0-x3, so the base lives elsewhere. */
    private static A64 prologue() {
        return new A64().mov64(X19, MMIO);
    }

    @Test
    void apiVersionAndScratchVmWithGicAndPsciVcpu() {
        try (TinyGuest g = new TinyGuest(prologue().emit(A64.b(0)).bytes())) {
            assertEquals(12, g.kvm.apiVersion());
            assertTrue(g.kvm.checkExtension(KvmUapi.KVM_CAP_ARM_PSCI_0_2()) > 0);
            assertEquals(RAM, g.vcpu.getOneReg(RegIds.PC));
            long mpidr = g.vcpu.getOneReg(RegIds.MPIDR_EL1);
            assertEquals(0, mpidr & 0xff, "vcpu 0 has Aff0 = 0");
        }
    }

    @Test
    void mmioStoreIsDecodedWithAddressLengthAndData() {
        A64 code =
                prologue().mov64(1, 0x1122334455667788L).emit(A64.strX(1, X19, 8)).emit(A64.b(0));
        try (TinyGuest g = new TinyGuest(code.bytes())) {
            var mmio = assertInstanceOf(VcpuExit.Mmio.class, g.vcpu.run());
            assertEquals(MMIO + 8, mmio.address());
            assertEquals(8, mmio.length());
            assertTrue(mmio.isWrite());
            assertEquals(0x1122334455667788L, mmio.data().get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
        }
    }

    @Test
    void mmioReadGetsTheValueTheVmmPutsInData() {
        A64 code = prologue().emit(A64.ldrX(2, X19, 16)).emit(A64.strX(2, X19, 24)).emit(A64.b(0));
        try (TinyGuest g = new TinyGuest(code.bytes())) {
            var read = assertInstanceOf(VcpuExit.Mmio.class, g.vcpu.run());
            assertFalse(read.isWrite());
            assertEquals(MMIO + 16, read.address());
            read.data().set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 0xCAFEF00DL);
            var write = assertInstanceOf(VcpuExit.Mmio.class, g.vcpu.run());
            assertEquals(MMIO + 24, write.address());
            assertEquals(0xCAFEF00DL, write.data().get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
        }
    }

    @Test
    void smcccVersionIsAnsweredInKernel() {
        A64 code =
                prologue()
                        .mov64(0, 0x80000000L)
                        .emit(A64.hvc(0))
                        .emit(A64.strX(0, X19, 0))
                        .emit(A64.b(0));
        try (TinyGuest g = new TinyGuest(code.bytes())) {
            var mmio = assertInstanceOf(VcpuExit.Mmio.class, g.vcpu.run());
            long version = mmio.data().get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            assertTrue(
                    version >= 0x10001 && version < 0x20000,
                    "SMCCC version 0x" + Long.toHexString(version));
        }
    }

    @Test
    void filterForwardsSdeiCallsAsHypercallExitsForHvcAndSmc() {
        A64 code = prologue().mov64(0, SDEI_VERSION).mov64(1, 0x1111).mov64(2, 0x2222);
        int hvcAt = code.here();
        code.emit(A64.hvc(0)).emit(A64.strX(0, X19, 0)).mov64(0, SDEI_VERSION);
        int smcAt = code.here();
        code.emit(A64.smc(0)).emit(A64.strX(0, X19, 8)).emit(A64.b(0));
        try (TinyGuest g = new TinyGuest(code.bytes())) {
            assertTrue(
                    g.vm.hasAttribute(
                            KvmUapi.KVM_ARM_VM_SMCCC_CTRL(), KvmUapi.KVM_ARM_VM_SMCCC_FILTER()));
            g.vm.setSmcccFilter(
                    (int) SDEI_VERSION, 32, KvmUapi.KVM_SMCCC_FILTER_FWD_TO_USER(), "SDEI");

            var hvc = assertInstanceOf(VcpuExit.Hypercall.class, g.vcpu.run());
            assertEquals(SDEI_VERSION, hvc.functionId());
            assertFalse(hvc.smc());
            assertEquals(RAM + hvcAt + 4, g.vcpu.getOneReg(RegIds.PC), "PC already past the HVC");
            assertEquals(0x1111, g.vcpu.getOneReg(RegIds.x(1)));
            assertEquals(0x2222, g.vcpu.getOneReg(RegIds.x(2)));
            g.vcpu.setOneReg(RegIds.x(0), 0x1000100000000L);
            var seen = assertInstanceOf(VcpuExit.Mmio.class, g.vcpu.run());
            assertEquals(0x1000100000000L, seen.data().get(ValueLayout.JAVA_LONG_UNALIGNED, 0));

            var smc = assertInstanceOf(VcpuExit.Hypercall.class, g.vcpu.run());
            assertTrue(smc.smc());
            assertEquals(RAM + smcAt + 4, g.vcpu.getOneReg(RegIds.PC), "PC already past the SMC");
            g.vcpu.setOneReg(RegIds.x(0), 7);
            var seen2 = assertInstanceOf(VcpuExit.Mmio.class, g.vcpu.run());
            assertEquals(MMIO + 8, seen2.address());
            assertEquals(7, seen2.data().get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
        }
    }

    @Test
    void filterOnTheReservedArchRangeIsRefused() {
        try (TinyGuest g = new TinyGuest(prologue().emit(A64.b(0)).bytes())) {
            var e =
                    assertThrows(
                            KvmException.class,
                            () ->
                                    g.vm.setSmcccFilter(
                                            0x80000000,
                                            1,
                                            KvmUapi.KVM_SMCCC_FILTER_FWD_TO_USER(),
                                            "arch"));
            assertEquals(Errno.EEXIST, e.errno());
        }
    }

    @Test
    void pvTimeIpaIsSetOnceAndReadBack() {
        try (TinyGuest g = new TinyGuest(prologue().emit(A64.b(0)).bytes())) {
            int group = KvmUapi.KVM_ARM_VCPU_PVTIME_CTRL();
            long attr = KvmUapi.KVM_ARM_VCPU_PVTIME_IPA();
            assertTrue(g.vcpu.hasAttribute(group, attr));
            g.vcpu.setAttributeU64(group, attr, RAM + 0x100000, "PVTIME_IPA");
            assertEquals(RAM + 0x100000, g.vcpu.getAttributeU64(group, attr, "PVTIME_IPA"));
            var again =
                    assertThrows(
                            KvmException.class,
                            () ->
                                    g.vcpu.setAttributeU64(
                                            group, attr, RAM + 0x100040, "PVTIME_IPA"));
            assertEquals(Errno.EEXIST, again.errno());
        }
    }

    @Test
    void bitmapRegistersAreReadReducedAndReRead() {
        try (TinyGuest g = new TinyGuest(prologue().emit(A64.b(0)).bytes())) {
            assertEquals(0x1, g.vcpu.getOneReg(RegIds.STD_BMAP) & 0x1, "TRNG offered by default");
            assertEquals(
                    0x1, g.vcpu.getOneReg(RegIds.STD_HYP_BMAP) & 0x1, "PV time offered by default");
            assertEquals(
                    0x3,
                    g.vcpu.getOneReg(RegIds.VENDOR_HYP_BMAP) & 0x3,
                    "FUNC_FEAT and PTP by default");
            g.vcpu.setOneReg(RegIds.STD_BMAP, 0);
            assertEquals(0, g.vcpu.getOneReg(RegIds.STD_BMAP));
            g.vcpu.setOneReg(RegIds.VENDOR_HYP_BMAP, 0x1);
            assertEquals(0x1, g.vcpu.getOneReg(RegIds.VENDOR_HYP_BMAP));
            var bad =
                    assertThrows(
                            KvmException.class,
                            () -> g.vcpu.setOneReg(RegIds.STD_HYP_BMAP, 1L << 63));
            assertEquals(Errno.EINVAL, bad.errno());
            assertEquals(
                    "KVM_SET_ONE_REG(" + RegIds.nameOf(RegIds.STD_HYP_BMAP) + "): EINVAL",
                    bad.getMessage());
        }
    }

    @Test
    void filterAndChangedBitmapAreBusyAfterTheFirstRun() {
        A64 code = prologue().emit(A64.strX(0, X19, 0)).emit(A64.b(0));
        try (TinyGuest g = new TinyGuest(code.bytes())) {
            long std = g.vcpu.getOneReg(RegIds.STD_BMAP);
            assertInstanceOf(VcpuExit.Mmio.class, g.vcpu.run());
            var filter =
                    assertThrows(
                            KvmException.class,
                            () ->
                                    g.vm.setSmcccFilter(
                                            (int) SDEI_VERSION,
                                            32,
                                            KvmUapi.KVM_SMCCC_FILTER_FWD_TO_USER(),
                                            "SDEI"));
            assertEquals(Errno.EBUSY, filter.errno());
            var bitmap =
                    assertThrows(KvmException.class, () -> g.vcpu.setOneReg(RegIds.STD_BMAP, 0));
            assertEquals(Errno.EBUSY, bitmap.errno());
            g.vcpu.setOneReg(RegIds.STD_BMAP, std); // an unchanged value is accepted after the run
        }
    }
}
