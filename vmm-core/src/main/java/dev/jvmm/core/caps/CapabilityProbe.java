package dev.jvmm.core.caps;

import dev.jvmm.core.UnsupportedRequestException;
import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.arch.aarch64.CpuOffer;
import dev.jvmm.core.arch.aarch64.HostPmu;
import dev.jvmm.core.arch.aarch64.Pmu;
import dev.jvmm.core.arch.aarch64.SveVectorLengths;
import dev.jvmm.core.firmware.BitmapRegister;
import dev.jvmm.core.firmware.FirmwarePort;
import dev.jvmm.core.firmware.HostFirmware;
import dev.jvmm.core.firmware.HypercallService;
import dev.jvmm.core.firmware.ServiceBitmaps;
import dev.jvmm.core.memory.MemoryLock;
import dev.jvmm.kvm.Device;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Probes /dev/kvm for everything jvmm uses, on a scratch VM and vCPU: there is no capability for
 * the SMCCC filter or the hypercall bitmaps, so they are asked of a real VM the way a run would use
 * them.
 */
public final class CapabilityProbe {
    private CapabilityProbe() {}

    public static HostCapabilities probe(Kvm kvm) {
        HostCapabilities c = new HostCapabilities();
        CpuOffer offer;
        c.put("api_version", kvm.apiVersion());
        c.put("host_arch", System.getProperty("os.arch"));
        c.put("kernel", kernelRelease());
        c.put("max_ipa_bits", kvm.checkExtension(KvmUapi.KVM_CAP_ARM_VM_IPA_SIZE()));
        c.put("max_vcpus", kvm.checkExtension(KvmUapi.KVM_CAP_MAX_VCPUS()));
        c.put("recommended_vcpus", kvm.checkExtension(KvmUapi.KVM_CAP_NR_VCPUS()));
        try (Vm vm = kvm.createVm(0);
                Vcpu vcpu = vm.createVcpu(0)) {
            offer = CpuOffer.of(vm);
            vcpu.init(vm.preferredTarget(), Vcpu.FEATURE_PSCI_0_2);
            HostFirmware host = HostFirmware.read(FirmwarePort.of(vcpu));
            probePsci(c.section("psci"), kvm, host);
            c.put("vgic_v3", vm.canCreateDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_V3()));
            Map<String, Object> pv = c.section("pv_time");
            pv.put("capability", kvm.checkExtension(KvmUapi.KVM_CAP_STEAL_TIME()) > 0);
            pv.put("vcpu_attribute", host.pvTime());
            pv.put(
                    "usable",
                    host.pvTime()
                            && ServiceBitmaps.hostDefault(host).offers(HypercallService.PV_TIME));
            boolean filter =
                    vm.hasAttribute(
                            KvmUapi.KVM_ARM_VM_SMCCC_CTRL(), KvmUapi.KVM_ARM_VM_SMCCC_FILTER());
            c.put("smccc_filter", filter);
            Map<String, Object> bm = c.section("hypercall_bitmaps");
            for (BitmapRegister r : BitmapRegister.values()) {
                bm.put(
                        r.key(),
                        host.bitmap(r).isPresent()
                                ? HostCapabilities.hex(host.bitmap(r).getAsLong())
                                : null);
            }
            Map<String, Object> svc = c.section("hypercall_services");
            for (HypercallService s : HypercallService.values())
                svc.put(s.cliName(), offerable(host, s, filter));
        }
        try (Vm vm = kvm.createVm(0)) {
            c.section("irqchip").putAll(probeIrqchip(vm));
        }
        probeMemoryLock(c.section("memory_lock"), kvm);
        Map<String, Object> cpu = c.section("cpu_features");
        putCpuFeatures(cpu, offer, offer.sve() ? sveVectorLengths(kvm) : List.of());
        cpu.put("pmu_v3", kvm.checkExtension(KvmUapi.KVM_CAP_ARM_PMU_V3()) > 0);
        probePmu(
                c.section("pmu"),
                kvm.checkExtension(KvmUapi.KVM_CAP_ARM_PMU_V3()) > 0,
                HostPmu.read(HostPmu.SYSFS),
                Pmu.allowedCpus());
        Map<String, Object> io = c.section("io");
        io.put("irqfd", kvm.checkExtension(KvmUapi.KVM_CAP_IRQFD()) > 0);
        io.put("ioeventfd", kvm.checkExtension(KvmUapi.KVM_CAP_IOEVENTFD()) > 0);
        io.put("immediate_exit", kvm.checkExtension(KvmUapi.KVM_CAP_IMMEDIATE_EXIT()) > 0);
        return c;
    }

    /**
     * SVE (and the vector lengths a vCPU gets by default, in bits; null without SVE), pointer
     * authentication (the guest gets it only when both kinds are offered) and MTE.
     */
    static void putCpuFeatures(Map<String, Object> cpu, CpuOffer offer, List<Integer> sveBits) {
        cpu.put("sve", offer.sve());
        cpu.put("sve_vector_lengths", offer.sve() ? List.copyOf(sveBits) : null);
        cpu.put("ptrauth", offer.ptrauth());
        cpu.put("ptrauth_address", offer.ptrauthAddress());
        cpu.put("ptrauth_generic", offer.ptrauthGeneric());
        cpu.put("mte", offer.mte());
    }

    /**
     * KVM_REG_ARM64_SVE_VLS of a scratch vCPU initialised with SVE (its own VM: KVM wants one
     * feature set for all vCPUs of a VM).
     */
    private static List<Integer> sveVectorLengths(Kvm kvm) {
        try (Vm vm = kvm.createVm(0);
                Vcpu vcpu = vm.createVcpu(0)) {
            vcpu.init(vm.preferredTarget(), Vcpu.FEATURE_SVE);
            return SveVectorLengths.read(vcpu);
        }
    }

    /**
     * PSCI 0.2+ support, KVM's default (highest) version, and every version --psci accepts here.
     */
    private static void probePsci(Map<String, Object> psci, Kvm kvm, HostFirmware host) {
        psci.put("supported", kvm.checkExtension(KvmUapi.KVM_CAP_ARM_PSCI_0_2()) > 0);
        psci.put("version", host.psci() == null ? null : host.psci().toString());
        PsciVersion max = host.psci() == null ? PsciVersion.V0_2 : host.psci();
        psci.put(
                "selectable",
                PsciVersion.KVM_SETTABLE.stream()
                        .filter(v -> v.compareTo(max) <= 0)
                        .map(PsciVersion::toString)
                        .toList());
    }

    /**
     * The interrupt controllers KVM can emulate (KVM_CREATE_DEVICE_TEST), on a scratch VM of its
     * own: MSI_DEVID is a VM answer that turns on only once an ITS exists, so one is created.
     */
    private static Map<String, Object> probeIrqchip(Vm vm) {
        boolean v3 = vm.canCreateDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_V3());
        boolean its = vm.canCreateDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_ITS());
        Boolean devid = null;
        if (its) {
            Device d = vm.createDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_ITS(), "vgic-its probe");
            try {
                devid = vm.checkExtension(KvmUapi.KVM_CAP_MSI_DEVID()) > 0;
            } finally {
                d.close();
            }
        }
        return irqchip(v3, its, devid, vm.canCreateDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_V2()));
    }

    /**
     * The irqchip section: what KVM can emulate, and the --irqchip values a run accepts here (jvmm
     * builds GICv3 machines only, so gicv2 is never one).
     *
     * @param msiDevid KVM_CAP_MSI_DEVID with an ITS; null when there is no ITS to ask with
     */
    static Map<String, Object> irqchip(
            boolean gicv3, boolean gicv3Its, Boolean msiDevid, boolean gicv2) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("gicv3", gicv3);
        m.put("gicv3_its", gicv3 && gicv3Its);
        m.put("msi_devid", msiDevid);
        m.put("gicv2_emulation", gicv2);
        List<String> selectable = new ArrayList<>();
        if (gicv3) selectable.add("gicv3");
        if (gicv3 && gicv3Its) selectable.add("gicv3-its");
        m.put("selectable", List.copyOf(selectable));
        return m;
    }

    /**
     * Whether --hypercalls can offer {@code s} on this host: true or false from the register's
     * limit, null when the host lacks the register. Services KVM forwards to the VMM
     * (DISCOVER_IMPL) are jvmm's to answer (with --impl-cpu): true where the SMCCC filter can
     * forward their calls.
     */
    static Boolean offerable(HostFirmware host, HypercallService s, boolean smcccFilter) {
        if (host.bitmap(s.register()).isEmpty()) return null;
        if (s.vmmImplemented()) return smcccFilter;
        return (host.bitmap(s.register()).getAsLong() & s.mask()) != 0;
    }

    /**
     * --pmu: whether it passes the checks made before any vCPU exists (KVM's PMUv3, one host PMU
     * for the CPUs jvmm may run on; see {@link Pmu#choose}), the host PMU a guest would get, and
     * the host's CPU PMUs with the perf type and CPUs of each.
     */
    static void probePmu(
            Map<String, Object> m, boolean kvmPmuV3, List<HostPmu> host, BitSet allowed) {
        Pmu pmu;
        try {
            pmu = Pmu.choose(kvmPmuV3, host, allowed);
        } catch (UnsupportedRequestException e) {
            pmu = null;
        }
        m.put("usable", pmu != null);
        m.put(
                "guest_pmu_from",
                pmu == null
                        ? null
                        : pmu.selected()
                                .map(HostPmu::name)
                                .orElse(host.size() == 1 ? host.get(0).name() : "kvm-default"));
        Map<String, Object> pmus = new LinkedHashMap<>();
        for (HostPmu p : host) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("type", p.type());
            one.put("cpus", HostPmu.cpuList(p.cpus()));
            pmus.put(p.name(), one);
        }
        m.put("host_pmus", pmus);
    }

    private static void probeMemoryLock(Map<String, Object> m, Kvm kvm) {
        long[] lim = Libc.getrlimit(Libc.RLIMIT_MEMLOCK);
        m.put("rlimit_memlock", lim[0] == Libc.RLIM_INFINITY ? "unlimited" : lim[0]);
        boolean cap = MemoryLock.hasCapIpcLock();
        m.put("cap_ipc_lock", cap);
        m.put("lockable", cap || lim[0] == Libc.RLIM_INFINITY ? "unlimited" : lim[0]);
        m.put("madv_populate_write", populateWriteWorks());
        m.put("kvm_pre_fault_memory", kvm.checkExtension(KvmUapi.KVM_CAP_PRE_FAULT_MEMORY()) > 0);
    }

    /** MADV_POPULATE_WRITE (Linux 5.14) on a scratch anonymous page. */
    private static boolean populateWriteWorks() {
        MemorySegment page =
                Libc.mmap(
                        4096,
                        Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS,
                        -1,
                        0,
                        "mmap(probe page)");
        try {
            return Libc.madviseRaw(page, Libc.MADV_POPULATE_WRITE) == 0;
        } finally {
            Libc.munmap(page);
        }
    }

    private static String kernelRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            return null;
        }
    }
}
