package dev.jvmm.core.snapshot;

import dev.jvmm.core.arch.aarch64.CpuOffer;
import dev.jvmm.core.arch.aarch64.SveVectorLengths;
import dev.jvmm.core.firmware.BitmapRegister;
import dev.jvmm.core.firmware.FirmwarePort;
import dev.jvmm.core.firmware.GuestFirmware;
import dev.jvmm.core.firmware.HostFirmware;
import dev.jvmm.core.firmware.HypercallService;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.sys.HostCounter;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads {@link HostFacts}: what a running guest was given (for its snapshot), and what this host's
 * KVM offers (for {@link RestoreCheck}, on one scratch VM, before the restored VM is built).
 */
public final class HostProbe {
    /** KVM's IPA size for a VM created with type 0. */
    static final int DEFAULT_IPA_BITS = 40;

    private HostProbe() {}

    /**
     * What the guest was given. {@code vcpu0} belongs to the paused machine (its registers are
     * read, never written).
     *
     * @param ipaBits the VM's IPA size
     */
    public static HostFacts ofGuest(GuestFirmware fw, Vcpu vcpu0, int ipaBits, boolean mte) {
        Map<String, Long> bitmaps = new LinkedHashMap<>();
        fw.bitmaps().values().forEach((r, v) -> bitmaps.put(r.uapiName(), v));
        long isar1 = vcpu0.getOneReg(RegIds.ID_AA64ISAR1_EL1);
        long isar2 = read(vcpu0, RegIds.sysReg(3, 0, 0, 6, 2));
        long dfr0 = vcpu0.getOneReg(RegIds.ID_AA64DFR0_EL1);
        int pmuVer = (int) (dfr0 >>> 8) & 0xf;
        List<Integer> vls;
        try {
            vls = SveVectorLengths.read(vcpu0);
        } catch (KvmException e) { // no SVE on this vCPU
            vls = List.of();
        }
        return new HostFacts(
                bitmaps,
                fw.psci().toString(),
                workarounds(vcpu0),
                HostCounter.frequency(),
                ipaBits,
                vls,
                pointerAuth(isar1, isar2),
                pmuVer != 0 && pmuVer != 0xf,
                mte,
                kernelRelease());
    }

    /** What this host's KVM offers a guest built with the snapshot's vCPU features. */
    public static HostFacts offered(Kvm kvm, GuestDefinition guest) {
        return offered(kvm, psci02(guest));
    }

    /** Whether the guest's vCPUs were initialised with PSCI 0.2 (anything but --psci 0.1). */
    static boolean psci02(GuestDefinition guest) {
        return !"0.1".equals(guest.psci());
    }

    /**
     * What this host's KVM offers a guest whose vCPUs are initialised with PSCI 0.2 or later
     * ({@code psci02}) or with PSCI 0.1 (the only vCPU feature that changes what is read here).
     */
    static HostFacts offered(Kvm kvm, boolean psci02) {
        int ipa = kvm.checkExtension(KvmUapi.KVM_CAP_ARM_VM_IPA_SIZE());
        HostFirmware host;
        long cntfrq;
        Map<String, Long> wa;
        CpuOffer offer;
        boolean filter;
        List<Integer> vls;
        // one scratch VM for everything: the SVE vector lengths are read on the same vCPU (SVE
        // changes none of the firmware registers read here), not on a second VM
        try (Vm vm = kvm.createVm(0);
                Vcpu vcpu = vm.createVcpu(0)) {
            offer = CpuOffer.of(vm);
            filter =
                    vm.hasAttribute(
                            KvmUapi.KVM_ARM_VM_SMCCC_CTRL(), KvmUapi.KVM_ARM_VM_SMCCC_FILTER());
            List<Integer> features = new ArrayList<>();
            if (psci02) features.add(Vcpu.FEATURE_PSCI_0_2);
            if (offer.sve()) features.add(Vcpu.FEATURE_SVE);
            vcpu.init(
                    vm.preferredTarget(), features.stream().mapToInt(Integer::intValue).toArray());
            host = HostFirmware.read(FirmwarePort.of(vcpu));
            cntfrq = HostCounter.frequency();
            wa = workarounds(vcpu);
            vls = offer.sve() ? SveVectorLengths.read(vcpu) : List.of();
        }
        Map<String, Long> bitmaps = new LinkedHashMap<>();
        for (BitmapRegister r : BitmapRegister.values()) {
            // VENDOR_HYP_BMAP_2 resets to 0 and its services are the VMM's: jvmm serves them
            // (--impl-cpu, which the snapshot carries) wherever KVM can forward their calls
            host.bitmap(r).ifPresent(v -> bitmaps.put(r.uapiName(), limit(r, v, filter)));
        }
        return new HostFacts(
                bitmaps,
                host.psci() == null ? null : host.psci().toString(),
                wa,
                cntfrq,
                ipa > 0 ? ipa : DEFAULT_IPA_BITS,
                vls,
                offer.ptrauth(),
                kvm.checkExtension(KvmUapi.KVM_CAP_ARM_PMU_V3()) > 0,
                offer.mte(),
                kernelRelease());
    }

    /**
     * What a guest may have been given in register {@code r} on this host: its reset value for
     * KVM's own services, plus the services jvmm answers when the SMCCC filter can forward them.
     */
    static long limit(BitmapRegister r, long reset, boolean smcccFilter) {
        if (r.defaultsToAll()) return reset;
        if (!smcccFilter) return 0;
        long m = 0;
        for (HypercallService s : HypercallService.values())
            if (s.register() == r && s.vmmImplemented()) m |= s.mask();
        return m;
    }

    /** SMCCC_ARCH_WORKAROUND_1..3 by number; a register this KVM lacks is absent. */
    private static Map<String, Long> workarounds(Vcpu v) {
        long[] ids = {
            RegIds.SMCCC_ARCH_WORKAROUND_1,
            RegIds.SMCCC_ARCH_WORKAROUND_2,
            RegIds.SMCCC_ARCH_WORKAROUND_3
        };
        Map<String, Long> m = new LinkedHashMap<>();
        long[] out = new long[1];
        for (int i = 0; i < ids.length; i++) {
            if (v.tryGetOneReg(ids[i], out) == 0) m.put(Integer.toString(i + 1), out[0]);
        }
        return m;
    }

    private static long read(Vcpu v, long id) {
        long[] out = new long[1];
        return v.tryGetOneReg(id, out) == 0 ? out[0] : 0;
    }

    /**
     * Whether the guest's ID registers show pointer authentication: APA/API/GPA/GPI in
     * ID_AA64ISAR1_EL1, APA3/GPA3 in ID_AA64ISAR2_EL1 (KVM zeroes them without the feature bits).
     */
    static boolean pointerAuth(long isar1, long isar2) {
        long isar1Mask = 0xfL << 4 | 0xfL << 8 | 0xfL << 24 | 0xfL << 28;
        long isar2Mask = 0xfL << 8 | 0xfL << 12;
        return (isar1 & isar1Mask) != 0 || (isar2 & isar2Mask) != 0;
    }

    static String kernelRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            return null;
        }
    }
}
