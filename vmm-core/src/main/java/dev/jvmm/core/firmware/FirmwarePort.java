package dev.jvmm.core.firmware;

import dev.jvmm.kvm.Vcpu;

/**
 * The vCPU operations firmware set-up needs: ONE_REG access and vCPU device attributes. A seam so
 * that unit tests can model KVM's ordering rules and kvm-tier tests can count what jvmm really
 * issues.
 */
public interface FirmwarePort {
    int id();

    /** KVM_GET_ONE_REG; 0 with the value in {@code out[0]}, or {@code -errno}. */
    int tryGetOneReg(long regId, long[] out);

    void setOneReg(long regId, long value);

    boolean hasAttribute(int group, long attribute);

    void setAttributeU64(int group, long attribute, long value, String what);

    static FirmwarePort of(Vcpu v) {
        return new FirmwarePort() {
            @Override
            public int id() {
                return v.id();
            }

            @Override
            public int tryGetOneReg(long regId, long[] out) {
                return v.tryGetOneReg(regId, out);
            }

            @Override
            public void setOneReg(long regId, long value) {
                v.setOneReg(regId, value);
            }

            @Override
            public boolean hasAttribute(int group, long attribute) {
                return v.hasAttribute(group, attribute);
            }

            @Override
            public void setAttributeU64(int group, long attribute, long value, String what) {
                v.setAttributeU64(group, attribute, value, what);
            }
        };
    }
}
