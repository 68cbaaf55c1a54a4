package dev.jvmm.kvm;

/**
 * The part of arm64's {@code struct kvm_vcpu_events} that is vCPU state: an SError KVM holds for
 * the guest (a virtual SError injected but not yet taken) and, when the host supports it, its
 * syndrome. {@code ext_dabt_pending} is inject-only and never read back, so it is not here.
 *
 * @param pending {@code exception.serror_pending}
 * @param hasEsr {@code exception.serror_has_esr}: {@code esr} is meaningful
 * @param esr {@code exception.serror_esr}, the ISS KVM reports with the SError
 */
public record PendingSError(boolean pending, boolean hasEsr, long esr) {
    /** No SError pending. */
    public static final PendingSError NONE = new PendingSError(false, false, 0);
}
