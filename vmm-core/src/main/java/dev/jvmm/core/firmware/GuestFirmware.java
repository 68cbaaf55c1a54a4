package dev.jvmm.core.firmware;

import dev.jvmm.core.UnsupportedRequestException;
import dev.jvmm.core.arch.PsciVersion;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * What the guest's firmware will be, decided from the user's {@link FirmwareConfig} and the host's
 * {@link HostFirmware} before anything is written: the PSCI version, the bitmap registers and
 * whether PV stolen time is on. PV time and the pv-time bit always agree: the record region exists
 * exactly when the guest can find it.
 *
 * @param psci the version the guest sees (drives the device tree's /psci node)
 * @param psciWrite the value to write to KVM_REG_ARM_PSCI_VERSION, when it differs from KVM's
 *     default
 */
public record GuestFirmware(
        PsciVersion psci, Optional<PsciVersion> psciWrite, ServiceBitmaps bitmaps, boolean pvTime) {

    /**
     * Decides; {@code warn} receives one line per thing the user did not ask for explicitly but
     * will not get (PV time on a host without it) or should know (an undiscoverable service).
     *
     * @throws UnsupportedRequestException when an explicit request cannot be honoured on this host
     */
    public static GuestFirmware decide(
            FirmwareConfig cfg, HostFirmware host, Consumer<String> warn) {
        return decide(cfg, host, Set.of(), warn);
    }

    /**
     * Decides, with {@code vmmServed} the services KVM forwards to the VMM that jvmm answers in
     * this run (see {@link HypercallSelection#resolve(HostFirmware, Set)}).
     */
    public static GuestFirmware decide(
            FirmwareConfig cfg,
            HostFirmware host,
            Set<HypercallService> vmmServed,
            Consumer<String> warn) {
        PsciVersion psci = psci(cfg, host);
        Optional<PsciVersion> write =
                cfg.psci() != null && host.psci() != null && !cfg.psci().equals(host.psci())
                        ? Optional.of(cfg.psci())
                        : Optional.empty();

        HypercallSelection sel = cfg.hypercalls();
        boolean stdHyp = host.bitmap(BitmapRegister.STD_HYP).isPresent();
        // --no-pvtime also hides the service where it can; without the register, no IPA is enough
        // (PV_TIME_ST then answers NOT_SUPPORTED)
        if (!cfg.pvTime() && stdHyp) sel = sel.without(HypercallService.PV_TIME);
        ServiceBitmaps bitmaps = sel.resolve(host, vmmServed);

        boolean pvTime = cfg.wantsPvTime() && bitmaps.offers(HypercallService.PV_TIME);
        if (cfg.wantsPvTime() && !pvTime) {
            warn.accept(
                    "PV stolen time: this host's KVM does not offer the pv-time service; the guest runs without it");
        }
        if (pvTime && !host.pvTime()) {
            if (cfg.hypercalls().added().contains(HypercallService.PV_TIME)) {
                throw new UnsupportedRequestException(
                        "--hypercalls pv-time: this host's KVM cannot provide PV stolen"
                                + " time (no KVM_ARM_VCPU_PVTIME_IPA vCPU attribute)");
            }
            warn.accept(
                    "PV stolen time: this host's KVM lacks the KVM_ARM_VCPU_PVTIME_IPA vCPU attribute;"
                            + " the guest runs without it");
            pvTime = false;
            bitmaps = bitmaps.without(HypercallService.PV_TIME);
        }
        if (bitmaps.hasRegister(BitmapRegister.VENDOR_HYP)
                && bitmaps.offers(HypercallService.PTP)
                && !bitmaps.offers(HypercallService.KVM_FEATURES)) {
            warn.accept(
                    "--hypercalls: ptp is offered but a guest cannot discover it without kvm-features");
        }
        if (psci.equals(PsciVersion.V0_1)) {
            warn.accept(
                    "--psci 0.1 has no SYSTEM_OFF or SYSTEM_RESET: the guest cannot power off or reboot"
                            + " (stop it with --timeout, a signal or Ctrl-A x)");
        }
        return new GuestFirmware(psci, write, bitmaps, pvTime);
    }

    private static PsciVersion psci(FirmwareConfig cfg, HostFirmware host) {
        PsciVersion want = cfg.psci();
        if (want == null) return host.psci() != null ? host.psci() : PsciVersion.V0_2;
        if (want.equals(PsciVersion.V0_1))
            return want; // vCPUs are initialised without PSCI_0_2: nothing to write
        if (host.psci() == null) {
            if (want.equals(PsciVersion.V0_2)) return want;
            throw new UnsupportedRequestException(
                    "--psci "
                            + want
                            + ": this host's KVM has no PSCI_VERSION register"
                            + " and implements PSCI 0.2 only");
        }
        if (want.compareTo(host.psci()) > 0) {
            throw new UnsupportedRequestException(
                    "--psci " + want + ": this host's KVM implements PSCI up to " + host.psci());
        }
        return want;
    }

    /** One line for the log: what the guest will see. */
    public String describe(long pvTimeBase) {
        return "guest firmware: PSCI "
                + psci
                + "; hypercall services "
                + bitmaps.describe()
                + "; PV stolen time "
                + (pvTime ? String.format("on (64-byte records from 0x%x)", pvTimeBase) : "off");
    }
}
