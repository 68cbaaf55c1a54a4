package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.arch.FdtContributor;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.snapshot.Snapshottable;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The vCPUs and their interrupt controller, built in the order KVM requires: VM-wide CPU
 * capabilities (MTE) before any vCPU, the vGIC (and ITS) before the vCPUs, the vCPUs with their
 * feature bits, the vGIC initialised once every vCPU exists, then each vCPU's PMU.
 *
 * @param gic the GICv3 (and its ITS, when asked for)
 * @param vcpus in id order
 * @param init repeats each vCPU's KVM_ARM_VCPU_INIT on an in-place reboot
 * @param pmu the PMU set-up, when --pmu
 */
public record Aarch64Cpus(VgicV3 gic, List<Vcpu> vcpus, Aarch64Vcpus init, Optional<Pmu> pmu) {
    private static final System.Logger LOG = System.getLogger("jvmm.vm");

    /**
     * Builds them on {@code vm}; everything created is added to {@code undo} at once, so the caller
     * releases it if a later step fails.
     *
     * @param count how many vCPUs ({@code Layout} refused more than it can place)
     * @throws dev.jvmm.core.UnsupportedRequestException when the host cannot give what was asked
     *     (--pmu, --mte, an irqchip, the vCPU count), before any vCPU exists
     */
    public static Aarch64Cpus create(
            Kvm kvm,
            Vm vm,
            Layout layout,
            int count,
            CpuFeatures asked,
            boolean psci02,
            List<AutoCloseable> undo) {
        CpuOffer offer = CpuOffer.of(vm);
        GuestCpu guestCpu = GuestCpu.decide(asked, offer);
        Pmu pmu = asked.pmu() ? Pmu.forHost(kvm) : null;
        // VM-wide and only before the first vCPU; guest RAM is anonymous memory, which may hold
        // tags
        if (guestCpu.mte()) vm.enableCap(KvmUapi.KVM_CAP_ARM_MTE(), 0, "KVM_CAP_ARM_MTE");
        VgicV3 gic = VgicV3.create(vm, layout, asked.irqchip());
        undo.add(gic);
        VcpuCount.check(vm, count, LOG); // with the vGIC: its type sets the VM's maximum
        gic.its().ifPresent(its -> LOG.log(Level.INFO, its.describe()));
        List<Vcpu> vcpus = new ArrayList<>();
        undo.add(() -> vcpus.forEach(Vcpu::close));
        Aarch64Vcpus init = Aarch64Vcpus.create(vm, count, psci02, guestCpu, pmu != null, vcpus);
        LOG.log(
                Level.INFO,
                guestCpu.describe(
                        asked,
                        offer,
                        guestCpu.sve() ? SveVectorLengths.read(vcpus.get(0)) : List.of()));
        gic.initialise();
        if (pmu != null) {
            pmu.initialise(vcpus);
            LOG.log(Level.INFO, pmu.describe());
        }
        return new Aarch64Cpus(gic, List.copyOf(vcpus), init, Optional.ofNullable(pmu));
    }

    /**
     * The KVM-side snapshot parts, in restore order: each vCPU ({@code vcpu.N}: registers,
     * mp_state, SError), the guest counter, the vGIC, then the ITS when there is one. Saving the
     * vGIC and the ITS writes LPI pending bits and ITS tables into guest RAM: save RAM after their
     * {@code saveState}, restore it before their {@code restoreState}.
     */
    public List<Snapshottable<?>> stateParts() {
        List<Snapshottable<?>> parts = new ArrayList<>();
        for (Vcpu v : vcpus) parts.add(new VcpuSnapshot(v, init.features(v.id())));
        parts.add(new CounterSnapshot(vcpus));
        parts.add(new GicSnapshot(gic, vcpus));
        gic.its().ifPresent(its -> parts.add(new ItsSnapshot(its)));
        return parts;
    }

    /** The device-tree nodes these parts add beyond the GIC's own (the PMU's). */
    public List<FdtContributor> deviceTreeNodes() {
        return pmu.isPresent() ? List.of(Pmu.deviceTreeNode()) : List.of();
    }
}
