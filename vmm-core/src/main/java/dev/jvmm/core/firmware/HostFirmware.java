package dev.jvmm.core.firmware;

import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * What this host's KVM offers a guest's firmware, read on a freshly initialised vCPU before
 * anything was written: the PSCI version (KVM's default is the highest it implements), each bitmap
 * register's reset value (for all but VENDOR_HYP_BMAP_2 the host's upper limit) and the PV-time
 * vCPU attribute.
 *
 * @param psci null when KVM has no PSCI_VERSION register
 * @param bitmaps registers the host has, with their reset values; absent ones are missing
 * @param pvTime KVM_HAS_DEVICE_ATTR(KVM_ARM_VCPU_PVTIME_CTRL, KVM_ARM_VCPU_PVTIME_IPA)
 */
public record HostFirmware(PsciVersion psci, Map<BitmapRegister, Long> bitmaps, boolean pvTime) {
    public HostFirmware {
        EnumMap<BitmapRegister, Long> copy = new EnumMap<>(BitmapRegister.class);
        copy.putAll(bitmaps);
        bitmaps = Collections.unmodifiableMap(copy);
    }

    /** The register's reset value, or empty when this host's KVM does not have it (ENOENT). */
    public OptionalLong bitmap(BitmapRegister r) {
        Long v = bitmaps.get(r);
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /**
     * Reads everything from {@code vcpu}, which must be initialised and must not have run or been
     * written.
     */
    public static HostFirmware read(FirmwarePort vcpu) {
        long[] v = new long[1];
        PsciVersion psci =
                read(vcpu, RegIds.PSCI_VERSION, v) ? PsciVersion.fromKvmRegister(v[0]) : null;
        Map<BitmapRegister, Long> bitmaps = new EnumMap<>(BitmapRegister.class);
        for (BitmapRegister r : BitmapRegister.values()) {
            if (read(vcpu, r.regId(), v)) bitmaps.put(r, v[0]);
        }
        boolean pv =
                vcpu.hasAttribute(
                        KvmUapi.KVM_ARM_VCPU_PVTIME_CTRL(), KvmUapi.KVM_ARM_VCPU_PVTIME_IPA());
        return new HostFirmware(psci, bitmaps, pv);
    }

    /** True with the value in {@code out[0]}; false for a register this KVM does not have. */
    private static boolean read(FirmwarePort vcpu, long regId, long[] out) {
        int r = vcpu.tryGetOneReg(regId, out);
        if (r == 0) return true;
        if (r == -Errno.ENOENT) return false;
        throw new KvmException("KVM_GET_ONE_REG(" + RegIds.nameOf(regId) + ")", -r);
    }
}
