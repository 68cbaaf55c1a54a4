package dev.jvmm.core.vm;

import dev.jvmm.kvm.KvmRunLayout;

/**
 * One vCPU's MMIO data buffers, one per access length KVM can report (0..8 bytes), reused for every
 * MMIO exit of that vCPU so an exit allocates nothing. {@code MmioBus} takes the access length from
 * the array's length, so each length has its own array. Only the vCPU's own thread uses them; a
 * device must not keep a reference past its {@code read}/{@code write} call.
 */
final class MmioBuffers {
    private final byte[][] byLength = new byte[KvmRunLayout.MMIO_MAX_LEN + 1][];

    MmioBuffers() {
        for (int n = 0; n < byLength.length; n++) byLength[n] = new byte[n];
    }

    /** The buffer for an access of {@code length} bytes, 0..{@link KvmRunLayout#MMIO_MAX_LEN}. */
    byte[] ofLength(int length) {
        return byLength[length];
    }
}
