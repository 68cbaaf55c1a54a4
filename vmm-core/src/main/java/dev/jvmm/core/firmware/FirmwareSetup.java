package dev.jvmm.core.firmware;

import dev.jvmm.core.UnsupportedRequestException;
import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Writes a {@link GuestFirmware} into KVM, enforcing the order KVM imposes: the PSCI version and
 * the bitmap registers are written once, before any vCPU has run (KVM refuses a changed bitmap with
 * EBUSY afterwards), and each vCPU's PV-time IPA is set exactly once (KVM answers a second set with
 * EEXIST, and keeps the IPA across KVM_ARM_VCPU_INIT, so an in-place reboot must not set it again).
 * {@link #seal()} is called before the first KVM_RUN; every write after it is refused here, so jvmm
 * never asks KVM for something KVM would refuse.
 */
public final class FirmwareSetup {
    private static final String SEALED =
            "guest firmware is fixed once a vCPU has run (KVM refuses changed"
                    + " bitmaps with EBUSY and a second PV-time IPA with EEXIST)";

    private volatile boolean sealed;
    private boolean registersWritten;
    private final Set<Integer> pvTimeSet = ConcurrentHashMap.newKeySet();

    /**
     * Writes the PSCI version (when it differs from KVM's default) and the changed bitmap
     * registers, through one vCPU: the registers are VM-wide.
     */
    public synchronized void writeRegisters(FirmwarePort vcpu, GuestFirmware fw) {
        if (sealed) throw new IllegalStateException(SEALED);
        if (registersWritten)
            throw new IllegalStateException("guest firmware registers are written once per VM");
        registersWritten = true;
        fw.psciWrite()
                .ifPresent(
                        v -> {
                            try {
                                vcpu.setOneReg(RegIds.PSCI_VERSION, v.kvmRegisterValue());
                            } catch (KvmException e) {
                                if (e.errno() != Errno.EINVAL) throw e;
                                throw new UnsupportedRequestException(
                                        "--psci " + v + ": this host's KVM refuses it (EINVAL)");
                            }
                        });
        for (Map.Entry<BitmapRegister, Long> e : fw.bitmaps().changed().entrySet()) {
            vcpu.setOneReg(e.getKey().regId(), e.getValue());
        }
    }

    /**
     * Points {@code vcpu}'s stolen-time record at {@code ipa} (KVM_ARM_VCPU_PVTIME_IPA); once per
     * vCPU.
     */
    public void setPvTimeIpa(FirmwarePort vcpu, long ipa) {
        if (sealed) throw new IllegalStateException(SEALED);
        if (!pvTimeSet.add(vcpu.id())) {
            throw new IllegalStateException(
                    "the PV-time IPA of vCPU "
                            + vcpu.id()
                            + " is already set (KVM allows it once)");
        }
        vcpu.setAttributeU64(
                KvmUapi.KVM_ARM_VCPU_PVTIME_CTRL(),
                KvmUapi.KVM_ARM_VCPU_PVTIME_IPA(),
                ipa,
                String.format("PVTIME_IPA 0x%x", ipa));
    }

    /** Called before the first KVM_RUN: from now on nothing is written. */
    public void seal() {
        sealed = true;
    }

    public boolean isSealed() {
        return sealed;
    }
}
