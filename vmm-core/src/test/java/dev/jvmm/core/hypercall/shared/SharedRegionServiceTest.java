package dev.jvmm.core.hypercall.shared;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.hypercall.FakeRegisters;
import dev.jvmm.core.hypercall.Smccc;
import dev.jvmm.core.hypercall.SmcccRouter;
import java.util.List;
import org.junit.jupiter.api.Test;

class SharedRegionServiceTest {
    private static final long BASE = 0x8000_0000L, G = 4096;
    private final SharedRegionService svc = new SharedRegionService(BASE, 64L << 20);
    private final SmcccRouter router = SmcccRouter.builder().service(svc).build();

    private long[] call(int fn, long... args) {
        FakeRegisters regs = new FakeRegisters().context(0x4000, 0x3c5).call(fn, args);
        // x3 is an argument: unset ones must read as the caller's zero
        if (args.length < 3) regs.with(dev.jvmm.kvm.RegIds.x(3), 0);
        if (args.length < 2) regs.with(dev.jvmm.kvm.RegIds.x(2), 0);
        if (args.length < 1) regs.with(dev.jvmm.kvm.RegIds.x(1), 0);
        router.handle(0, fn, false, regs);
        assertEquals(0x4000, regs.pc());
        return new long[] {regs.x(0), regs.x(1)};
    }

    @Test
    void meminfoAdvertisesTheGranuleAndTheRangeForm() {
        assertArrayEquals(new long[] {4096, 1}, call(SharedRegionService.HYP_MEMINFO));
        assertArrayEquals(
                new long[] {Smccc.INVALID_PARAMETER, 0},
                call(SharedRegionService.HYP_MEMINFO, 1),
                "reserved x1 must be zero");
        assertArrayEquals(
                new long[] {Smccc.INVALID_PARAMETER, 0},
                call(SharedRegionService.HYP_MEMINFO, 0, 0, 5));
    }

    @Test
    void shareAndUnshareReturnTheGranuleCount() {
        assertArrayEquals(new long[] {0, 4}, call(SharedRegionService.MEM_SHARE, BASE + 16 * G, 4));
        assertArrayEquals(
                new long[] {0, 1},
                call(SharedRegionService.MEM_SHARE, BASE + 20 * G, 0),
                "count 0 is the legacy single-granule form");
        assertEquals(List.of(new SharedRegion(BASE + 16 * G, 5 * G)), svc.regions().regions());
        assertArrayEquals(
                new long[] {0, 2}, call(SharedRegionService.MEM_UNSHARE, BASE + 17 * G, 2));
        assertEquals(
                List.of(new SharedRegion(BASE + 16 * G, G), new SharedRegion(BASE + 19 * G, 2 * G)),
                svc.regions().regions());
    }

    @Test
    void everyRefusalIsInvalidParameterWithZeroProcessed() {
        call(SharedRegionService.MEM_SHARE, BASE, 2);
        long[] bad = {Smccc.INVALID_PARAMETER, 0};
        assertArrayEquals(bad, call(SharedRegionService.MEM_SHARE, BASE + G, 1), "already shared");
        assertArrayEquals(
                bad, call(SharedRegionService.MEM_UNSHARE, BASE + 8 * G, 1), "never shared");
        assertArrayEquals(
                bad, call(SharedRegionService.MEM_SHARE, BASE + 8 * G + 16, 1), "misaligned");
        assertArrayEquals(
                bad, call(SharedRegionService.MEM_SHARE, 0x1000_0000L, 1), "below RAM (MMIO)");
        assertArrayEquals(
                bad, call(SharedRegionService.MEM_SHARE, BASE + (64L << 20), 1), "past RAM");
        assertArrayEquals(
                bad, call(SharedRegionService.MEM_SHARE, BASE + 8 * G, -1L), "huge count");
        assertArrayEquals(
                bad, call(SharedRegionService.MEM_SHARE, BASE + 8 * G, 1, 7), "reserved x3");
        assertEquals(List.of(new SharedRegion(BASE, 2 * G)), svc.regions().regions());
    }

    @Test
    void unclaimedVendorIdsAreNotSupported() {
        assertNull(router.serviceFor(0xC6000001));
        assertNull(router.serviceFor(0xC6000005));
    }
}
