package dev.jvmm.core.arch.aarch64;

import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.util.ArrayList;
import java.util.List;

/**
 * The SVE vector lengths of a vCPU, from KVM_REG_ARM64_SVE_VLS: a 512-bit bitmap in which bit
 * {@code (vq - 1) % 64} of word {@code (vq - 1) / 64} is set when the vector length of {@code vq}
 * quadwords (128 bits each) is available (api.rst; KVM_ARM64_SVE_VQ_MIN is 1). After init it holds
 * every length the host can virtualise; jvmm leaves it there, as kvmtool does (no option for it).
 */
public final class SveVectorLengths {
    private static final int QUADWORD_BITS = 128;

    private SveVectorLengths() {}

    /** Reads a vCPU's lengths; the vCPU must have been initialised with KVM_ARM_VCPU_SVE. */
    public static List<Integer> read(Vcpu v) {
        return bits(
                v.getWideReg(KvmUapi.KVM_REG_ARM64_SVE_VLS(), KvmUapi.KVM_ARM64_SVE_VLS_WORDS()));
    }

    /** The lengths in bits, ascending, of a KVM_REG_ARM64_SVE_VLS bitmap. */
    static List<Integer> bits(long[] vls) {
        List<Integer> out = new ArrayList<>();
        for (int word = 0; word < vls.length; word++) {
            for (int bit = 0; bit < 64; bit++) {
                if ((vls[word] & (1L << bit)) != 0) {
                    int vq = word * 64 + bit + 1;
                    out.add(vq * QUADWORD_BITS);
                }
            }
        }
        return out;
    }
}
