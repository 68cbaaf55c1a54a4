package dev.jvmm.core.hypercall;

import java.util.List;

/**
 * Answers ARM_SMCCC_VENDOR_HYP_KVM_FEATURES (0x86000000) in place of KVM, so that services jvmm
 * adds to the KVM vendor-hypervisor range (shared regions: function numbers 2, 3, 4) can be
 * discovered the way a guest discovers KVM's own (Linux: {@code kvm_arm_hyp_service_available}).
 *
 * <p>KVM's answer is {@code x0 = VENDOR_HYP_BMAP, x2 = VENDOR_HYP_BMAP_2} (function numbers 0-63
 * and 64-127; bit 0 FEATURES, bit 1 PTP; 64/65 the DISCOVER_IMPL calls). This class starts from
 * exactly those register values <em>as the VM runs with them</em> (read after jvmm wrote the bitmap
 * registers), adds the bits of jvmm's services, and clears the bit of any function whose SMC32 or
 * SMC64 ID the user denied, so a guest never sees a service advertised that will answer
 * NOT_SUPPORTED.
 *
 * <p>KVM answers FEATURES only when VENDOR_HYP_BMAP bit 0 (FUNC_FEAT) is set; when the user cleared
 * it the guest cannot discover the vendor range at all (CALL_UID is gated by the same bit), so the
 * VM builder must not install this service then (see {@link #canAdvertise}).
 */
public final class VendorHypFeatures implements SmcccService {
    public static final int FEATURES_FUNC_ID = 0x8600_0000;

    /** {@code KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT}. */
    public static final long FUNC_FEAT = 1;

    private static final int SMC32_BASE = 0x8600_0000, SMC64_BASE = 0xC600_0000;

    private final long[] words = new long[4];

    /**
     * @param vendorHypBmap KVM_REG_ARM_VENDOR_HYP_BMAP as the VM runs with it
     * @param vendorHypBmap2 KVM_REG_ARM_VENDOR_HYP_BMAP_2, 0 when the kernel has no such register
     * @param serviceBits function numbers 0..63 that jvmm's services answer
     * @param denied the router's user deny ranges
     */
    public VendorHypFeatures(
            long vendorHypBmap, long vendorHypBmap2, long serviceBits, List<FunctionRange> denied) {
        long low = vendorHypBmap | serviceBits; // function numbers 0..63
        long high = vendorHypBmap2; // 64..127
        for (int n = 0; n < 128; n++) {
            if (isDenied(denied, n)) {
                if (n < 64) low &= ~(1L << n);
                else high &= ~(1L << (n - 64));
            }
        }
        // the same registers KVM fills (hypercalls.c: val[0] = vendor_hyp_bmap, val[2] =
        // vendor_hyp_bmap_2)
        words[0] = low;
        words[2] = high;
    }

    private static boolean isDenied(List<FunctionRange> denied, int n) {
        long a = Smccc.unsigned(SMC32_BASE + n), b = Smccc.unsigned(SMC64_BASE + n);
        return denied.stream().anyMatch(r -> r.contains(a) || r.contains(b));
    }

    /** False when the VM's VENDOR_HYP_BMAP hides the vendor range (FUNC_FEAT clear). */
    public static boolean canAdvertise(long vendorHypBmap) {
        return (vendorHypBmap & FUNC_FEAT) != 0;
    }

    /** The four result words (x0..x3) every FEATURES call returns. */
    public long[] words() {
        return words.clone();
    }

    @Override
    public String name() {
        return "vendor-hyp-features";
    }

    @Override
    public List<FunctionRange> claims() {
        return List.of(FunctionRange.single(Smccc.unsigned(FEATURES_FUNC_ID)));
    }

    @Override
    public SmcccResult call(SmcccCall call) {
        if (call.functionId() != FEATURES_FUNC_ID) return SmcccResult.notSupported();
        return new SmcccResult.Values(words[0], words[1], words[2], words[3]);
    }
}
