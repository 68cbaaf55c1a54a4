package dev.jvmm.core.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class SveVectorLengthsTest {
    @Test
    void bitNOfTheBitmapIsAVectorLengthOfNPlusOneQuadwords() {
        long[] vls = new long[8];
        vls[0] = 0b1011; // VQ 1, 2, 4: 128, 256, 512 bits
        assertEquals(List.of(128, 256, 512), SveVectorLengths.bits(vls));
    }

    @Test
    void theHighestWordsCountFromVq65() {
        long[] vls = new long[8];
        vls[0] = 1L << 63; // VQ 64
        vls[1] = 1; // VQ 65
        vls[7] = 1L << 63; // VQ 512, KVM_ARM64_SVE_VQ_MAX
        assertEquals(List.of(64 * 128, 65 * 128, 512 * 128), SveVectorLengths.bits(vls));
    }

    @Test
    void anEmptyBitmapHasNoLengths() {
        assertEquals(List.of(), SveVectorLengths.bits(new long[8]));
    }
}
