package dev.jvmm.core.firmware;

import dev.jvmm.core.arch.PsciVersion;
import java.util.Objects;

/**
 * The user's firmware choices for a run: which hypercall services the guest may see, PV stolen
 * time, and the PSCI version. Validated here where no host is needed; the host-dependent rest is
 * {@link GuestFirmware#decide}.
 *
 * @param pvTime false for --no-pvtime
 * @param psci null for the host's default (the highest version its KVM implements)
 */
public record FirmwareConfig(HypercallSelection hypercalls, boolean pvTime, PsciVersion psci) {
    /** KVM's defaults: every service, PV stolen time, the newest PSCI. */
    public static final FirmwareConfig DEFAULT =
            new FirmwareConfig(HypercallSelection.ALL, true, null);

    public FirmwareConfig {
        Objects.requireNonNull(hypercalls, "hypercalls");
        if (!pvTime && hypercalls.added().contains(HypercallService.PV_TIME)) {
            throw dev.jvmm.core.JvmmException.usage(
                    "--no-pvtime contradicts --hypercalls "
                            + hypercalls
                            + ", which offers pv-time to the guest");
        }
    }

    /** Whether the user wants PV stolen time, should the host offer it. */
    public boolean wantsPvTime() {
        return pvTime && hypercalls.mayOffer(HypercallService.PV_TIME);
    }

    /** Whether vCPUs get KVM_ARM_VCPU_PSCI_0_2 (everything but --psci 0.1). */
    public boolean psci02() {
        return psci == null || psci.usesPsci02Feature();
    }
}
