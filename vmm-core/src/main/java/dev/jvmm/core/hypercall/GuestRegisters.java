package dev.jvmm.core.hypercall;

/**
 * The registers of the vCPU a hypercall service is working on, addressed by KVM_{GET,SET}_ONE_REG
 * ids ({@code dev.jvmm.kvm.RegIds}). The real implementation issues one ioctl per access on the
 * vCPU's own thread; tests use a map. Services never see KVM otherwise.
 */
public interface GuestRegisters {
    long get(long regId);

    void set(long regId, long value);
}
