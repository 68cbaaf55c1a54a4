package dev.jvmm.core.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.Layout;
import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.VcpuExit;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.testing.A64;
import dev.jvmm.kvm.testing.KvmTest;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pmu's KVM calls on real KVM (kvm tier), with the host PMU named explicitly (PMU_V3_SET_PMU, the
 * heterogeneous-host path; the lab's L1 has one PMU, so a second one on CPUs it does not have makes
 * jvmm choose), and the facts the in-place reboot relies on.
 */
@KvmTest
class PmuKvmTest {
    private static final long RAM_SIZE = 2 << 20;
    private static final long MMIO = 0x1000_0000L;

    /** {@code mrs x1, pmcr_el0} (S3_3_C9_C12_0). */
    private static final int MRS_X1_PMCR_EL0 = 0xD53B9C01;

    private static final int CTRL = KvmUapi.KVM_ARM_VCPU_PMU_V3_CTRL();

    /** A 2-vCPU VM with a vGICv3 whose vCPUs have the PMU feature; RAM holds {@code code}. */
    private static final class PmuVm implements AutoCloseable {
        final Kvm kvm = Kvm.open();
        final Vm vm = kvm.createVm(0);
        final Layout layout = new Layout(64 << 20, 2);
        final MemorySegment ram =
                Libc.mmap(
                        RAM_SIZE,
                        Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS,
                        -1,
                        0,
                        "mmap(guest ram)");
        final VgicV3 gic;
        final List<Vcpu> vcpus = new ArrayList<>();
        final Aarch64Vcpus cpus;

        PmuVm(byte[] code) {
            MemorySegment.copy(MemorySegment.ofArray(code), 0, ram, 0, code.length);
            vm.setUserMemoryRegion(0, 0, layout.ramBase(), ram);
            gic = VgicV3.create(vm, layout, CpuFeatures.Irqchip.GICV3);
            cpus = Aarch64Vcpus.create(vm, 2, true, new GuestCpu(false, false, false), true, vcpus);
            gic.initialise();
        }

        @Override
        public void close() {
            vcpus.forEach(Vcpu::close);
            gic.close();
            vm.close();
            Libc.munmap(ram);
            kvm.close();
        }
    }

    /** Stores PMCR_EL0 to MMIO, then PSCI SYSTEM_OFF (a guest's reset ends in such an exit). */
    private static byte[] readPmcrToMmio() {
        return new A64()
                .emit(MRS_X1_PMCR_EL0)
                .mov64(2, MMIO)
                .emit(A64.strX(1, 2, 0))
                .mov64(0, 0x84000008L)
                .emit(A64.hvc(0))
                .emit(A64.b(0))
                .bytes();
    }

    /** The PMCR_EL0 value vCPU 0 reads, from its MMIO store; runs on to the PSCI exit. */
    private static long runToPmcr(PmuVm g) {
        Vcpu v = g.vcpus.get(0);
        v.setOneReg(RegIds.PC, g.layout.ramBase());
        VcpuExit.Mmio exit = assertInstanceOf(VcpuExit.Mmio.class, v.run());
        assertEquals(MMIO, exit.address());
        assertTrue(exit.isWrite());
        long pmcr = exit.data().get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        assertInstanceOf(VcpuExit.SystemEvent.class, v.run());
        return pmcr;
    }

    private static HostPmu realHostPmu() {
        List<HostPmu> host = HostPmu.read(HostPmu.SYSFS);
        assertEquals(1, host.size(), "the lab's L1 has one CPU PMU: " + host);
        return host.get(0);
    }

    @Test
    void setPmuWithTheHostsTypeThenInitGivesTheGuestAPmuThatSurvivesReinit() {
        HostPmu real = realHostPmu();
        HostPmu elsewhere = new HostPmu("other_pmu", real.type() + 1000, cpus(200, 201));
        Pmu pmu = Pmu.choose(true, List.of(real, elsewhere), real.cpus());
        assertEquals(real, pmu.selected().orElseThrow(), "several PMUs: one is named to KVM");
        try (PmuVm g = new PmuVm(readPmcrToMmio())) {
            pmu.initialise(g.vcpus);
            long n = (runToPmcr(g) >>> 11) & 0x1f;
            assertTrue(n > 0, "PMCR_EL0.N = " + n);

            // the in-place reboot: KVM_ARM_VCPU_INIT again, and the PMU is still there
            for (Vcpu v : g.vcpus) g.cpus.init(v);
            assertEquals(n, (runToPmcr(g) >>> 11) & 0x1f, "PMCR_EL0.N after re-init");
            // which is why the reboot does not repeat PMU_V3_INIT: KVM refuses it
            KvmException e =
                    assertThrows(
                            KvmException.class,
                            () ->
                                    g.vcpus
                                            .get(1)
                                            .setAttribute(
                                                    CTRL,
                                                    KvmUapi.KVM_ARM_VCPU_PMU_V3_INIT(),
                                                    "PMU_V3_INIT"));
            assertEquals(Errno.EBUSY, e.errno(), e.getMessage());
        }
    }

    /** Why Pmu.initialise is not optional: the feature alone makes KVM_RUN fail. */
    @Test
    void theFeatureWithoutPmuInitMakesKvmRunFail() {
        try (PmuVm g = new PmuVm(readPmcrToMmio())) {
            assertTrue(g.vcpus.get(0).hasAttribute(CTRL, KvmUapi.KVM_ARM_VCPU_PMU_V3_INIT()));
            g.vcpus.get(0).setOneReg(RegIds.PC, g.layout.ramBase());
            KvmException e = assertThrows(KvmException.class, () -> g.vcpus.get(0).run());
            assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
        }
    }

    private static BitSet cpus(int... ids) {
        BitSet s = new BitSet();
        for (int id : ids) s.set(id);
        return s;
    }
}
