package dev.jvmm.core.hypercall.shared;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class SharedRegionSetTest {
    private static final long BASE = 0x8000_0000L, RAM = 16L << 20, G = 4096;

    private static SharedRegionSet set() {
        return new SharedRegionSet(BASE, RAM, G);
    }

    private static SharedRegion r(long start, long granules) {
        return new SharedRegion(start, granules * G);
    }

    @Test
    void adjacentSharesCoalesceAndGapsStaySeparate() {
        SharedRegionSet s = set();
        assertTrue(s.share(BASE + 4 * G, 2));
        assertTrue(s.share(BASE + 6 * G, 1)); // touches on the right
        assertTrue(s.share(BASE + 2 * G, 2)); // touches on the left
        assertTrue(s.share(BASE + 10 * G, 1)); // gap
        assertEquals(List.of(r(BASE + 2 * G, 5), r(BASE + 10 * G, 1)), s.regions());
        assertTrue(s.share(BASE + 7 * G, 3)); // fills the gap: one region
        assertEquals(List.of(r(BASE + 2 * G, 9)), s.regions());
        assertEquals(9 * G, s.sharedBytes());
    }

    @Test
    void sharingAnAlreadySharedGranuleIsRefusedWhole() {
        SharedRegionSet s = set();
        assertTrue(s.share(BASE + 4 * G, 4));
        assertFalse(s.share(BASE + 4 * G, 1), "exact duplicate");
        assertFalse(s.share(BASE + 2 * G, 3), "overlaps the start");
        assertFalse(s.share(BASE + 7 * G, 2), "overlaps the end");
        assertFalse(s.share(BASE, 100), "covers it");
        assertEquals(List.of(r(BASE + 4 * G, 4)), s.regions(), "nothing changed");
    }

    @Test
    void unshareSplitsTrimsAndRemoves() {
        SharedRegionSet s = set();
        assertTrue(s.share(BASE, 10));
        assertTrue(s.unshare(BASE + 4 * G, 2)); // middle: split
        assertEquals(List.of(r(BASE, 4), r(BASE + 6 * G, 4)), s.regions());
        assertTrue(s.unshare(BASE, 1)); // left edge
        assertTrue(s.unshare(BASE + 9 * G, 1)); // right edge
        assertEquals(List.of(r(BASE + G, 3), r(BASE + 6 * G, 3)), s.regions());
        assertTrue(s.unshare(BASE + G, 3));
        assertTrue(s.unshare(BASE + 6 * G, 3));
        assertEquals(List.of(), s.regions());
    }

    @Test
    void unshareOfANeverSharedRangeIsRefused() {
        SharedRegionSet s = set();
        assertFalse(s.unshare(BASE, 1), "empty set");
        assertTrue(s.share(BASE + 4 * G, 2));
        assertFalse(s.unshare(BASE + 3 * G, 2), "starts before the region");
        assertFalse(s.unshare(BASE + 5 * G, 2), "runs past the region");
        assertTrue(s.share(BASE + 7 * G, 1));
        assertFalse(s.unshare(BASE + 4 * G, 4), "spans the unshared granule between two regions");
        assertEquals(List.of(r(BASE + 4 * G, 2), r(BASE + 7 * G, 1)), s.regions());
    }

    @Test
    void badArgumentsAreRefused() {
        SharedRegionSet s = set();
        assertEquals("IPA 0x80000800 is not 4096-byte aligned", s.invalidReason(BASE + 0x800, 1));
        assertFalse(s.share(BASE + 0x800, 1));
        assertNotNull(s.invalidReason(BASE - G, 1), "below RAM");
        assertNotNull(s.invalidReason(BASE + RAM, 1), "just past RAM");
        assertNotNull(s.invalidReason(BASE + RAM - G, 2), "runs past the end");
        assertNull(s.invalidReason(BASE + RAM - G, 1), "the last granule");
        assertNull(s.invalidReason(BASE, RAM / G), "all of RAM");
        assertNotNull(s.invalidReason(0, 1), "IPA 0");
        assertNotNull(s.invalidReason(BASE, 0), "zero granules");
        assertNotNull(s.invalidReason(BASE, -1L), "2^64-1 granules");
        assertNotNull(s.invalidReason(BASE, 1L << 52), "count whose byte size overflows");
        assertNotNull(
                s.invalidReason(0xFFFF_FFFF_FFFF_F000L, 1), "IPA at the top of the address space");
        assertNotNull(s.invalidReason(0x8000_0000_0000_0000L, 1), "IPA with the sign bit");
        assertFalse(s.unshare(BASE + RAM, 1));
        assertEquals(List.of(), s.regions());
    }

    @Test
    void clearForgetsEverything() {
        SharedRegionSet s = set();
        s.share(BASE, 3);
        s.clear();
        assertEquals(List.of(), s.regions());
        assertTrue(s.share(BASE, 3));
    }

    /** Bytes this thread has allocated so far (HotSpot's per-thread counter). */
    private static long allocated() {
        return ((com.sun.management.ThreadMXBean)
                        java.lang.management.ManagementFactory.getThreadMXBean())
                .getCurrentThreadAllocatedBytes();
    }

    /**
     * Issue 11: a guest sharing every other granule of 1 GiB made one map entry per shared run
     * (131072 entries, ~10 MB). The state is now one bit per granule of RAM: sharing allocates
     * nothing per run.
     */
    @Test
    void sharingEveryOtherGranuleOfAGibAllocatesNoStatePerRegion() {
        long gib = 1L << 30, granules = gib / G;
        SharedRegionSet s = new SharedRegionSet(BASE, gib, G);
        assertTrue(s.share(BASE + gib - G, 1)); // the bitmap's last word, so it is at full size
        long before = allocated();
        for (long i = 0; i < granules - 2; i += 2) assertTrue(s.share(BASE + i * G, 1));
        long used = allocated() - before;
        assertTrue(
                used < 64 * 1024,
                "sharing " + granules / 2 + " separate granules allocated " + used + " bytes");
        assertEquals(gib / 2, s.sharedBytes());
    }

    @Test
    void theBitmapIsOneBitPerGranuleAtMost() {
        long gib = 1L << 30;
        SharedRegionSet s = new SharedRegionSet(BASE, gib, G);
        assertEquals(0, s.footprintBytes(), "nothing shared, nothing kept");
        for (long i = 0; i < gib / G; i += 2) s.share(BASE + i * G, 1);
        assertEquals(gib / G / 8, s.footprintBytes(), "32 KiB per GiB of RAM");
        assertEquals(gib / G / 2, s.regionCount());
    }

    @Test
    void pagesAreBoundedAndChainThroughTheWholeSet() {
        long gib = 1L << 30;
        SharedRegionSet s = new SharedRegionSet(BASE, gib, G);
        for (long i = 0; i < gib / G; i += 2) s.share(BASE + i * G, 1);
        SharedRegionSet.Page p = s.regions(0, 1024);
        assertEquals(1024, p.regions().size());
        assertEquals(new SharedRegion(BASE, G), p.regions().getFirst());
        assertEquals(new SharedRegion(BASE + 2046 * G, G), p.regions().getLast());
        assertEquals(gib / G / 2, p.totalRegions());
        assertEquals(gib / 2, p.totalBytes());
        assertEquals(BASE + 2047 * G, p.next().orElseThrow());
        long pages = 1, seen = p.regions().size();
        while (p.next().isPresent()) {
            p = s.regions(p.next().getAsLong(), 1024);
            pages++;
            seen += p.regions().size();
            assertTrue(p.regions().size() <= 1024);
        }
        assertEquals(gib / G / 2, seen);
        assertEquals(128, pages);
        assertEquals(new SharedRegion(BASE + gib - 2 * G, G), p.regions().getLast());
    }

    @Test
    void aPageStartsAtTheGranuleHoldingFrom() {
        SharedRegionSet s = set();
        s.share(BASE + 4 * G, 4);
        s.share(BASE + 10 * G, 1);
        assertEquals(
                List.of(r(BASE + 4 * G, 4), r(BASE + 10 * G, 1)),
                s.regions(0, 10).regions(),
                "below RAM: from the start");
        assertEquals(
                List.of(r(BASE + 6 * G, 2), r(BASE + 10 * G, 1)),
                s.regions(BASE + 6 * G + 5, 10).regions(),
                "inside a region: clipped to the granule holding from");
        SharedRegionSet.Page one = s.regions(BASE, 1);
        assertEquals(List.of(r(BASE + 4 * G, 4)), one.regions());
        assertEquals(BASE + 8 * G, one.next().orElseThrow());
        assertEquals(2, one.totalRegions());
        assertEquals(5 * G, one.totalBytes());
        assertTrue(s.regions(BASE + 8 * G, 1).next().isEmpty(), "the last region: no next page");
        assertEquals(List.of(), s.regions(BASE + RAM, 10).regions(), "past RAM");
        assertEquals(List.of(), s.regions(-1L, 10).regions(), "at the top of the address space");
    }

    @Test
    void regionCountFollowsMergesAndSplits() {
        SharedRegionSet s = set();
        s.share(BASE, 1);
        s.share(BASE + 2 * G, 1);
        assertEquals(2, s.regionCount());
        s.share(BASE + G, 1);
        assertEquals(1, s.regionCount(), "filled the gap");
        s.unshare(BASE + G, 1);
        assertEquals(2, s.regionCount(), "split");
        s.unshare(BASE, 1);
        s.unshare(BASE + 2 * G, 1);
        assertEquals(0, s.regionCount());
        s.share(BASE, 3);
        s.clear();
        assertEquals(0, s.regionCount());
        assertEquals(0, s.sharedBytes());
    }

    @Test
    void theExitSummaryCountsEverythingAndListsAFew() {
        SharedRegionSet s = set();
        assertEquals("0 regions, 0 KiB", s.summary(8));
        s.share(BASE + 0x10_0000, 1);
        s.share(BASE + 0x10_2000, 4);
        s.share(BASE + 0x20_0000, 1);
        assertEquals(
                "3 regions, 24 KiB: [0x80100000-0x80100fff (4 KiB), 0x80102000-0x80105fff (16 KiB), "
                        + "0x80200000-0x80200fff (4 KiB)]",
                s.summary(8));
        assertEquals("3 regions, 24 KiB: [0x80100000-0x80100fff (4 KiB), +2 more]", s.summary(1));
        s.clear();
        for (long i = 0; i < RAM / G; i += 2) s.share(BASE + i * G, 1);
        String line = s.summary(8);
        assertTrue(
                line.startsWith("2048 regions, 8192 KiB: [0x80000000-0x80000fff (4 KiB), "), line);
        assertTrue(line.endsWith(", +2040 more]"), line);
    }
}
