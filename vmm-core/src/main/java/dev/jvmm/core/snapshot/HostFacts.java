package dev.jvmm.core.snapshot;

import java.util.List;
import java.util.Map;

/**
 * The host facts a guest depends on. In a snapshot: what the guest was given. On a destination
 * ({@code HostProbe}): the most this host's KVM offers. {@link RestoreCheck} compares the two.
 *
 * @param bitmaps hypercall bitmap registers by {@code BitmapRegister} name: the guest's values, or
 *     this host's limit (the reset values; VENDOR_HYP_BMAP_2's is the DISCOVER_IMPL bits where the
 *     SMCCC filter lets jvmm serve them, else 0); a register the host lacks is absent
 * @param psci the PSCI version, e.g. {@code 1.1}: the guest's, or the highest this host implements
 * @param workarounds SMCCC_ARCH_WORKAROUND_1..3 levels by number ({@code "1"}..{@code "3"}); a
 *     register the host lacks is absent
 * @param cntfrq the host's counter frequency in Hz (CNTFRQ_EL0): what the guest reads, and KVM does
 *     not rescale it
 * @param ipaBits the VM's IPA size: the guest's, or this host's maximum
 * @param sveVectorLengths SVE vector lengths in bits, empty without SVE
 * @param ptrauth address and generic pointer authentication
 * @param pmu PMUv3
 * @param mte memory tagging
 * @param kernel the host kernel release, informational
 */
public record HostFacts(
        Map<String, Long> bitmaps,
        String psci,
        Map<String, Long> workarounds,
        long cntfrq,
        int ipaBits,
        List<Integer> sveVectorLengths,
        boolean ptrauth,
        boolean pmu,
        boolean mte,
        String kernel) {
    public HostFacts {
        bitmaps = Map.copyOf(bitmaps);
        workarounds = Map.copyOf(workarounds);
        sveVectorLengths = List.copyOf(sveVectorLengths);
    }
}
