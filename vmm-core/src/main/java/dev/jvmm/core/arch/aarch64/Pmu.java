package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.UnsupportedRequestException;
import dev.jvmm.core.arch.DeviceTreeBuilder;
import dev.jvmm.core.arch.FdtContributor;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.fdt.FdtNode;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;

/**
 * PMUv3 for every vCPU (--pmu), in KVM's order: decided with {@link #forHost} before any vCPU
 * exists (the vCPUs are then initialised with {@link Vcpu#FEATURE_PMU_V3}), and {@link
 * #initialise}d once the vGIC is (PMU_V3_INIT wants an initialised vGIC; KVM_RUN fails with EINVAL
 * on a vCPU with the feature but without PMU_V3_INIT).
 *
 * <p>The in-place reboot needs nothing from here: KVM_ARM_VCPU_INIT with the same features resets
 * the vCPU's PMU registers but keeps the PMU KVM created (its IRQ, its host PMU), and every PMU
 * attribute set after PMU_V3_INIT fails with EBUSY.
 *
 * <p>Which host PMU backs the guest's: on a host with one CPU PMU, KVM's default (that one). With
 * several (big.LITTLE), the guest's counters only count right while its vCPU threads run on CPUs of
 * the PMU it was given, so jvmm takes the one PMU covering the CPUs it may run on (its affinity, as
 * {@code taskset} sets it) and tells KVM with PMU_V3_SET_PMU; when its CPUs span several kinds, it
 * refuses and says which CPUs to pin it to, rather than letting counts go wrong when a thread
 * migrates.
 */
public final class Pmu {
    /** The overflow interrupt: PPI 7 (INTID 23), kvmtool's and QEMU's virt choice. */
    public static final int INTID = Layout.PMU_INTID;

    public static final String COMPATIBLE = "arm,armv8-pmuv3";

    private static final int CTRL = KvmUapi.KVM_ARM_VCPU_PMU_V3_CTRL();

    /** The host PMU to name in SET_PMU; empty: KVM's default. */
    private final Optional<HostPmu> selected;

    private Pmu(Optional<HostPmu> selected) {
        this.selected = selected;
    }

    /**
     * Decides for this host: its KVM's PMUv3 support, its CPU PMUs, and the CPUs this thread (and
     * the vCPU threads it starts, which inherit its affinity) may run on.
     *
     * @throws UnsupportedRequestException when the host cannot give the guest a PMU
     */
    public static Pmu forHost(Kvm kvm) {
        return choose(
                kvm.checkExtension(KvmUapi.KVM_CAP_ARM_PMU_V3()) > 0,
                HostPmu.read(HostPmu.SYSFS),
                allowedCpus());
    }

    /** The CPUs the calling thread may run on; empty when unknown. */
    public static BitSet allowedCpus() {
        return allowedCpus(Path.of("/proc/thread-self/status"));
    }

    /**
     * The decision, from the facts {@link #forHost} gathers.
     *
     * @param allowed the CPUs jvmm may run on; empty when unknown (then: all of them)
     * @throws UnsupportedRequestException when the host cannot give the guest a PMU
     */
    public static Pmu choose(boolean kvmPmuV3, List<HostPmu> hostPmus, BitSet allowed) {
        if (!kvmPmuV3) {
            throw new UnsupportedRequestException(
                    "--pmu: this host's KVM has no PMUv3 for guests (no KVM_CAP_ARM_PMU_V3: the"
                            + " host has no PMU KVM can use)");
        }
        if (hostPmus.size() <= 1) return new Pmu(Optional.empty());
        List<HostPmu> covering =
                hostPmus.stream()
                        .filter(p -> allowed.isEmpty() || p.cpus().intersects(allowed))
                        .toList();
        if (covering.size() == 1) return new Pmu(Optional.of(covering.get(0)));
        if (covering.isEmpty()) return new Pmu(Optional.empty());
        String pmus = String.join(", ", covering.stream().map(HostPmu::describe).toList());
        throw new UnsupportedRequestException(
                "--pmu: this host's CPUs have different PMUs ("
                        + pmus
                        + ") and jvmm may run on CPUs of more than one; pin it to one kind, e.g."
                        + " taskset -c "
                        + HostPmu.cpuList(covering.get(0).cpus())
                        + " jvmm run ...");
    }

    /** The host PMU jvmm names to KVM; empty when KVM picks (a host with one CPU PMU). */
    public Optional<HostPmu> selected() {
        return selected;
    }

    /**
     * Gives every vCPU its PMU, after the vGIC is initialised and before any vCPU runs: the
     * overflow PPI, the host PMU where one was chosen, then PMU_V3_INIT.
     *
     * @throws UnsupportedRequestException when a host PMU was chosen and this KVM cannot be told
     *     (PMU_V3_SET_PMU came with Linux 6.0)
     */
    public void initialise(List<Vcpu> vcpus) {
        for (Vcpu v : vcpus) {
            v.setAttributeInt(CTRL, KvmUapi.KVM_ARM_VCPU_PMU_V3_IRQ(), INTID, "PMU_V3_IRQ");
            if (selected.isPresent()) {
                long setPmu = KvmUapi.KVM_ARM_VCPU_PMU_V3_SET_PMU();
                if (!v.hasAttribute(CTRL, setPmu)) {
                    throw new UnsupportedRequestException(
                            "--pmu: this host has several CPU PMUs and its KVM cannot be told"
                                    + " which one to use (no KVM_ARM_VCPU_PMU_V3_SET_PMU; Linux"
                                    + " 6.0 added it)");
                }
                v.setAttributeInt(CTRL, setPmu, selected.get().type(), "PMU_V3_SET_PMU");
            }
            v.setAttribute(CTRL, KvmUapi.KVM_ARM_VCPU_PMU_V3_INIT(), "PMU_V3_INIT");
        }
    }

    /** For the log: which PMU the guest got. */
    public String describe() {
        return "--pmu: PMUv3 on every vCPU, overflow interrupt PPI "
                + Layout.ppiNumber(INTID)
                + selected.map(p -> ", backed by " + p.describe()).orElse("");
    }

    /**
     * The {@code arm,armv8-pmuv3} node (Documentation/devicetree/bindings/arm/pmu.yaml): its PPI,
     * level-triggered active high as KVM raises it; no CPU mask cell, which is GICv2-only.
     */
    public static FdtContributor deviceTreeNode() {
        return fdt -> {
            FdtNode pmu = fdt.beginNode("pmu");
            fdt.propertyString("compatible", COMPATIBLE);
            fdt.propertyArrayU32(
                    "interrupts",
                    DeviceTreeBuilder.GIC_PPI,
                    Layout.ppiNumber(INTID),
                    DeviceTreeBuilder.IRQ_TYPE_LEVEL_HIGH);
            fdt.endNode(pmu);
        };
    }

    /**
     * {@code Cpus_allowed_list} of {@code status} (a /proc status file); empty when it cannot be
     * read, which {@link #choose} takes as "any CPU".
     */
    static BitSet allowedCpus(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return HostPmu.parseCpuList(line.substring(line.indexOf(':') + 1));
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            // no affinity known: choose() then considers every CPU
        }
        return new BitSet();
    }
}
