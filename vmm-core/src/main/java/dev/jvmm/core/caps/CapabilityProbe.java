package dev.jvmm.core.caps;

import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.uapi.KvmUapi;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Probes /dev/kvm for everything jvmm uses, on a scratch VM and vCPU: there is no capability for the
 * SMCCC filter or the hypercall bitmaps, so they are asked of a real VM the way a run would use them.
 */
public final class CapabilityProbe {
    private CapabilityProbe() {}

    public static HostCapabilities probe(Kvm kvm) {
        HostCapabilities c = new HostCapabilities();
        c.put("api_version", kvm.apiVersion());
        c.put("host_arch", System.getProperty("os.arch"));
        c.put("kernel", kernelRelease());
        c.put("max_ipa_bits", kvm.checkExtension(KvmUapi.KVM_CAP_ARM_VM_IPA_SIZE()));
        c.put("max_vcpus", kvm.checkExtension(KvmUapi.KVM_CAP_MAX_VCPUS()));
        c.put("recommended_vcpus", kvm.checkExtension(KvmUapi.KVM_CAP_NR_VCPUS()));
        try (Vm vm = kvm.createVm(0); Vcpu vcpu = vm.createVcpu(0)) {
            vcpu.init(vm.preferredTarget(), Vcpu.FEATURE_PSCI_0_2);
            probePsci(c, kvm, vcpu);
            c.put("vgic_v3", vm.canCreateDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_V3()));
            Map<String, Object> pv = c.section("pv_time");
            pv.put("capability", kvm.checkExtension(KvmUapi.KVM_CAP_STEAL_TIME()) > 0);
            pv.put("vcpu_attribute", vcpu.hasAttribute(KvmUapi.KVM_ARM_VCPU_PVTIME_CTRL(),
                    KvmUapi.KVM_ARM_VCPU_PVTIME_IPA()));
            c.put("smccc_filter", vm.hasAttribute(KvmUapi.KVM_ARM_VM_SMCCC_CTRL(), KvmUapi.KVM_ARM_VM_SMCCC_FILTER()));
            Map<String, Object> bm = c.section("hypercall_bitmaps");
            bm.put("std", bitmap(vcpu, RegIds.STD_BMAP));
            bm.put("std_hyp", bitmap(vcpu, RegIds.STD_HYP_BMAP));
            bm.put("vendor_hyp", bitmap(vcpu, RegIds.VENDOR_HYP_BMAP));
            bm.put("vendor_hyp_2", bitmap(vcpu, RegIds.VENDOR_HYP_BMAP_2));
        }
        probeMemoryLock(c.section("memory_lock"), kvm);
        Map<String, Object> cpu = c.section("cpu_features");
        cpu.put("sve", kvm.checkExtension(KvmUapi.KVM_CAP_ARM_SVE()) > 0);
        cpu.put("ptrauth", kvm.checkExtension(KvmUapi.KVM_CAP_ARM_PTRAUTH_ADDRESS()) > 0
                && kvm.checkExtension(KvmUapi.KVM_CAP_ARM_PTRAUTH_GENERIC()) > 0);
        cpu.put("mte", kvm.checkExtension(KvmUapi.KVM_CAP_ARM_MTE()) > 0);
        cpu.put("pmu_v3", kvm.checkExtension(KvmUapi.KVM_CAP_ARM_PMU_V3()) > 0);
        Map<String, Object> io = c.section("io");
        io.put("irqfd", kvm.checkExtension(KvmUapi.KVM_CAP_IRQFD()) > 0);
        io.put("ioeventfd", kvm.checkExtension(KvmUapi.KVM_CAP_IOEVENTFD()) > 0);
        io.put("immediate_exit", kvm.checkExtension(KvmUapi.KVM_CAP_IMMEDIATE_EXIT()) > 0);
        return c;
    }

    private static void probePsci(HostCapabilities c, Kvm kvm, Vcpu vcpu) {
        Map<String, Object> psci = c.section("psci");
        psci.put("supported", kvm.checkExtension(KvmUapi.KVM_CAP_ARM_PSCI_0_2()) > 0);
        long[] v = new long[1];
        psci.put("version", vcpu.tryGetOneReg(RegIds.PSCI_VERSION, v) == 0
                ? (v[0] >>> 16) + "." + (v[0] & 0xffff) : null);
    }

    /** The host's upper limit of a bitmap register (its value on a fresh vCPU), or null if absent. */
    private static String bitmap(Vcpu vcpu, long regId) {
        long[] v = new long[1];
        int r = vcpu.tryGetOneReg(regId, v);
        if (r == -Errno.ENOENT) return null;
        if (r < 0) return "error " + Errno.name(-r);
        return HostCapabilities.hex(v[0]);
    }

    private static void probeMemoryLock(Map<String, Object> m, Kvm kvm) {
        long[] lim = Libc.getrlimit(Libc.RLIMIT_MEMLOCK);
        m.put("rlimit_memlock", lim[0] == Libc.RLIM_INFINITY ? "unlimited" : lim[0]);
        m.put("cap_ipc_lock", hasCapIpcLock());
        m.put("madv_populate_write", populateWriteWorks());
        m.put("kvm_pre_fault_memory", kvm.checkExtension(KvmUapi.KVM_CAP_PRE_FAULT_MEMORY()) > 0);
    }

    /** MADV_POPULATE_WRITE (Linux 5.14) on a scratch anonymous page. */
    private static boolean populateWriteWorks() {
        MemorySegment page = Libc.mmap(4096, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0, "mmap(probe page)");
        try {
            return Libc.madviseRaw(page, Libc.MADV_POPULATE_WRITE) == 0;
        } finally {
            Libc.munmap(page);
        }
    }

    /** CAP_IPC_LOCK (bit 14) in this process's effective capabilities. */
    static boolean hasCapIpcLock() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << 14)) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }

    private static String kernelRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            return null;
        }
    }
}
