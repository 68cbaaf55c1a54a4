package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.UnsupportedRequestException;
import java.util.ArrayList;
import java.util.List;

/**
 * The optional features the vCPUs get: what was asked ({@link CpuFeatures}) meets what KVM offers
 * ({@link CpuOffer}). SVE and pointer authentication are kvmtool's defaults, so a host without them
 * silently runs without; --mte is an explicit request, so a host without it refuses the run.
 *
 * @param sve KVM_ARM_VCPU_SVE at init, finalized before the first KVM_RUN
 * @param ptrauth KVM_ARM_VCPU_PTRAUTH_ADDRESS and _GENERIC at init
 * @param mte KVM_CAP_ARM_MTE enabled on the VM before any vCPU exists
 */
public record GuestCpu(boolean sve, boolean ptrauth, boolean mte) {
    /**
     * Decides the vCPUs' optional features.
     *
     * @throws UnsupportedRequestException when --mte was given and KVM offers no MTE
     */
    public static GuestCpu decide(CpuFeatures asked, CpuOffer host) {
        if (asked.mte() && !host.mte()) {
            throw new UnsupportedRequestException(
                    "--mte: this host's KVM offers no memory tagging (no KVM_CAP_ARM_MTE; the"
                            + " CPU or the host kernel lacks MTE)");
        }
        return new GuestCpu(
                asked.sve() && host.sve(), asked.ptrauth() && host.ptrauth(), asked.mte());
    }

    /**
     * One line for the log, e.g. "vCPUs: SVE (VL 128..2048 bits), PAuth, no MTE": what the guest
     * got and, for what it did not get, why.
     *
     * @param vectorLengths the SVE vector lengths in bits (ascending), when {@link #sve}
     */
    public String describe(CpuFeatures asked, CpuOffer host, List<Integer> vectorLengths) {
        List<String> parts = new ArrayList<>();
        if (sve) {
            parts.add(
                    vectorLengths.isEmpty()
                            ? "SVE"
                            : "SVE (VL "
                                    + vectorLengths.getFirst()
                                    + (vectorLengths.size() > 1
                                            ? ".." + vectorLengths.getLast()
                                            : "")
                                    + " bits)");
        } else {
            parts.add("no SVE (" + (asked.sve() ? "not offered by KVM" : "--disable-sve") + ")");
        }
        if (ptrauth) {
            parts.add("PAuth");
        } else {
            parts.add(
                    "no PAuth ("
                            + (asked.ptrauth() ? "not offered by KVM" : "--disable-ptrauth")
                            + ")");
        }
        parts.add(mte ? "MTE" : "no MTE");
        return "vCPUs: " + String.join(", ", parts);
    }
}
