package dev.jvmm.core.hypercall;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class VendorHypFeaturesTest {
    private static final long SHARED_BITS = 1L << 2 | 1L << 3 | 1L << 4;

    @Test
    void keepsKvmBitsAndAddsTheServices() {
        // the lab's 6.12 default: FUNC_FEAT | PTP = 0x3, no BMAP_2
        VendorHypFeatures f = new VendorHypFeatures(0x3, 0, SHARED_BITS, List.of());
        assertArrayEquals(new long[] {0x1f, 0, 0, 0}, f.words());
        // a 6.16 kernel with DISCOVER_IMPL_* enabled in BMAP_2 answers them in x2, as KVM does
        assertArrayEquals(
                new long[] {0x1f, 0, 0x3, 0},
                new VendorHypFeatures(0x3, 0x3, SHARED_BITS, List.of()).words());
        // PTP switched off by the user in the bitmap register: the answer follows
        assertArrayEquals(
                new long[] {0x1d, 0, 0, 0},
                new VendorHypFeatures(0x1, 0, SHARED_BITS, List.of()).words());
    }

    @Test
    void deniedFunctionsAreNotAdvertised() {
        List<FunctionRange> denied =
                List.of(
                        FunctionRange.parse("0xC6000003"),
                        FunctionRange.parse("0x86000001"),
                        FunctionRange.parse("0xC6000041"));
        VendorHypFeatures f = new VendorHypFeatures(0x3, 0x3, SHARED_BITS, denied);
        assertArrayEquals(new long[] {0x15, 0, 0x1, 0}, f.words());
    }

    @Test
    void answersTheFeaturesCallOnly() {
        VendorHypFeatures f = new VendorHypFeatures(0x3, 0, SHARED_BITS, List.of());
        SmcccRouter r = SmcccRouter.builder().service(f).build();
        FakeRegisters regs = new FakeRegisters().context(0x8000, 0x3c5);
        r.handle(0, 0x86000000, false, regs);
        assertEquals(
                List.of(0x1fL, 0L, 0L, 0L), List.of(regs.x(0), regs.x(1), regs.x(2), regs.x(3)));
        assertEquals(
                List.of(
                        new FilterRange(
                                FunctionRange.single(0x8600_0000L),
                                FilterRange.Action.FWD_TO_USER)),
                r.filterRanges(),
                "only FEATURES is taken from KVM; CALL_UID and PTP stay in the kernel");
    }

    @Test
    void cannotAdvertiseWithoutFuncFeat() {
        assertTrue(VendorHypFeatures.canAdvertise(0x3));
        assertFalse(VendorHypFeatures.canAdvertise(0x2));
    }
}
