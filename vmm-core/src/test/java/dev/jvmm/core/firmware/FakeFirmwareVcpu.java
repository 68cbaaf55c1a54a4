package dev.jvmm.core.firmware;

import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A vCPU that answers firmware ONE_REGs and the PV-time attribute the way KVM does
 * (fw-pseudo-registers.rst, vcpu.rst), and logs every write, so unit tests can check both the
 * result and exactly what jvmm issued.
 */
final class FakeFirmwareVcpu implements FirmwarePort {
    /** VM-wide state several vCPUs share. */
    static final class Vm {
        final Map<Long, Long> regs = new HashMap<>();
        final Map<Long, Long> limits = new HashMap<>();
        PsciVersion psciMax;
        boolean pvTimeAttr = true;
        boolean hasRun;
        final List<String> writes = new ArrayList<>();

        /**
         * Linux 6.12 arm64 as in the lab: PSCI 1.1, bitmaps 0x1/0x1/0x3, no VENDOR_HYP_BMAP_2, PV
         * time.
         */
        static Vm lab() {
            Vm vm = new Vm();
            vm.psciMax = PsciVersion.V1_1;
            vm.regs.put(RegIds.PSCI_VERSION, PsciVersion.V1_1.kvmRegisterValue());
            vm.bitmap(RegIds.STD_BMAP, 0x1, 0x1);
            vm.bitmap(RegIds.STD_HYP_BMAP, 0x1, 0x1);
            vm.bitmap(RegIds.VENDOR_HYP_BMAP, 0x3, 0x3);
            return vm;
        }

        Vm bitmap(long reg, long reset, long limit) {
            regs.put(reg, reset);
            limits.put(reg, limit);
            return this;
        }
    }

    final Vm vm;
    private final int id;
    Long pvTimeIpa;

    FakeFirmwareVcpu(Vm vm, int id) {
        this.vm = vm;
        this.id = id;
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public int tryGetOneReg(long regId, long[] out) {
        Long v = vm.regs.get(regId);
        if (v == null) return -Errno.ENOENT;
        out[0] = v;
        return 0;
    }

    @Override
    public void setOneReg(long regId, long value) {
        String op = "KVM_SET_ONE_REG(" + RegIds.nameOf(regId) + ")";
        vm.writes.add(String.format("vcpu%d %s=0x%x", id, RegIds.nameOf(regId), value));
        Long cur = vm.regs.get(regId);
        if (cur == null) throw new KvmException(op, Errno.ENOENT);
        if (regId == RegIds.PSCI_VERSION) {
            if (PsciVersion.fromKvmRegister(value).compareTo(vm.psciMax) > 0)
                throw new KvmException(op, Errno.EINVAL);
        } else if ((value & ~vm.limits.get(regId)) != 0) {
            throw new KvmException(op, Errno.EINVAL);
        }
        if (vm.hasRun && value != cur) throw new KvmException(op, Errno.EBUSY);
        vm.regs.put(regId, value);
    }

    @Override
    public boolean hasAttribute(int group, long attribute) {
        return vm.pvTimeAttr
                && group == KvmUapi.KVM_ARM_VCPU_PVTIME_CTRL()
                && attribute == KvmUapi.KVM_ARM_VCPU_PVTIME_IPA();
    }

    @Override
    public void setAttributeU64(int group, long attribute, long value, String what) {
        vm.writes.add(String.format("vcpu%d PVTIME_IPA=0x%x", id, value));
        String op = "KVM_SET_DEVICE_ATTR(vcpu " + id + " " + what + ")";
        if (!hasAttribute(group, attribute)) throw new KvmException(op, Errno.ENXIO);
        if (pvTimeIpa != null) throw new KvmException(op, Errno.EEXIST);
        if (value % 64 != 0) throw new KvmException(op, Errno.EINVAL);
        pvTimeIpa = value;
    }
}
