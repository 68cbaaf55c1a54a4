package dev.jvmm.core.hypercall.shared;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SharedRegionSetTest {
    private static final long BASE = 0x8000_0000L, RAM = 16L << 20, G = 4096;

    private static SharedRegionSet set() { return new SharedRegionSet(BASE, RAM, G); }

    private static SharedRegion r(long start, long granules) { return new SharedRegion(start, granules * G); }

    @Test
    void adjacentSharesCoalesceAndGapsStaySeparate() {
        SharedRegionSet s = set();
        assertTrue(s.share(BASE + 4 * G, 2));
        assertTrue(s.share(BASE + 6 * G, 1));          // touches on the right
        assertTrue(s.share(BASE + 2 * G, 2));          // touches on the left
        assertTrue(s.share(BASE + 10 * G, 1));         // gap
        assertEquals(List.of(r(BASE + 2 * G, 5), r(BASE + 10 * G, 1)), s.regions());
        assertTrue(s.share(BASE + 7 * G, 3));          // fills the gap: one region
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
        assertTrue(s.unshare(BASE + 4 * G, 2));        // middle: split
        assertEquals(List.of(r(BASE, 4), r(BASE + 6 * G, 4)), s.regions());
        assertTrue(s.unshare(BASE, 1));                // left edge
        assertTrue(s.unshare(BASE + 9 * G, 1));        // right edge
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
        assertNotNull(s.invalidReason(0xFFFF_FFFF_FFFF_F000L, 1), "IPA at the top of the address space");
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
}
