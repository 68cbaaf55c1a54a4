package dev.jvmm.core.hypercall.shared;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The set of guest RAM granules currently shared with the host, kept as disjoint, coalesced regions
 * (adjacent shares merge; an unshare in the middle splits). Thread-safe.
 *
 * <p>Semantics follow pKVM's hypervisor (a granule has one state: shared or not): sharing a range that
 * contains an already-shared granule, or unsharing one that contains a granule that is not shared, is
 * refused as a whole and changes nothing. Bad arguments (misaligned, outside RAM, overflowing) are
 * refused the same way. The caller maps a refusal to INVALID_PARAMETER.
 */
public final class SharedRegionSet {
    private final long ramBase;
    private final long ramBytes;
    private final long granule;
    private final TreeMap<Long, Long> regions = new TreeMap<>();   // start -> end (exclusive)

    public SharedRegionSet(long ramBase, long ramBytes, long granule) {
        if (Long.bitCount(granule) != 1 || ramBase % granule != 0 || ramBytes % granule != 0 || ramBytes <= 0) {
            throw new IllegalArgumentException(String.format("RAM 0x%x+0x%x with granule 0x%x", ramBase, ramBytes, granule));
        }
        this.ramBase = ramBase;
        this.ramBytes = ramBytes;
        this.granule = granule;
    }

    public long granule() { return granule; }

    /** Why {@code [ipa, ipa + granules * granule)} is not a valid range of RAM granules, or null when it is. */
    public String invalidReason(long ipa, long granules) {
        if (granules < 1) return "granule count " + Long.toUnsignedString(granules);
        if ((ipa & (granule - 1)) != 0) return String.format("IPA 0x%x is not %d-byte aligned", ipa, granule);
        long ramGranules = ramBytes / granule;
        if (Long.compareUnsigned(granules, ramGranules) > 0) {
            return "granule count " + Long.toUnsignedString(granules) + " exceeds RAM";
        }
        // ipa is unsigned: anything below the base or past the end (including wrap-around) is outside
        long offset = ipa - ramBase;
        if (Long.compareUnsigned(ipa, ramBase) < 0 || Long.compareUnsigned(offset, ramBytes) >= 0
                || granules > (ramBytes - offset) / granule) {
            return String.format("0x%x + %d granules is outside RAM 0x%x-0x%x", ipa, granules, ramBase, ramBase + ramBytes - 1);
        }
        return null;
    }

    /** Shares the range; false (nothing changed) when it is invalid or any granule is already shared. */
    public synchronized boolean share(long ipa, long granules) {
        if (invalidReason(ipa, granules) != null) return false;
        long end = ipa + granules * granule;
        Map.Entry<Long, Long> below = regions.floorEntry(ipa);
        if (below != null && below.getValue() > ipa) return false;
        Map.Entry<Long, Long> above = regions.ceilingEntry(ipa);
        if (above != null && above.getKey() < end) return false;
        long start = ipa;
        if (below != null && below.getValue() == ipa) {          // touching on the left: merge
            start = below.getKey();
            regions.remove(below.getKey());
        }
        if (above != null && above.getKey() == end) {            // touching on the right: merge
            end = above.getValue();
            regions.remove(above.getKey());
        }
        regions.put(start, end);
        return true;
    }

    /** Unshares the range; false (nothing changed) when it is invalid or any granule is not shared. */
    public synchronized boolean unshare(long ipa, long granules) {
        if (invalidReason(ipa, granules) != null) return false;
        long end = ipa + granules * granule;
        Map.Entry<Long, Long> e = regions.floorEntry(ipa);
        // regions are coalesced, so a fully shared range lies inside one region
        if (e == null || e.getValue() < end) return false;
        regions.remove(e.getKey());
        if (e.getKey() < ipa) regions.put(e.getKey(), ipa);
        if (end < e.getValue()) regions.put(end, e.getValue());
        return true;
    }

    /** True when every granule of the range is shared. */
    public synchronized boolean isShared(long ipa, long bytes) {
        Map.Entry<Long, Long> e = regions.floorEntry(ipa);
        return e != null && e.getValue() >= ipa + bytes;
    }

    /** The shared regions in address order (a snapshot). */
    public synchronized List<SharedRegion> regions() {
        List<SharedRegion> out = new ArrayList<>(regions.size());
        regions.forEach((s, e) -> out.add(new SharedRegion(s, e - s)));
        return out;
    }

    public synchronized long sharedBytes() {
        long n = 0;
        for (Map.Entry<Long, Long> e : regions.entrySet()) n += e.getValue() - e.getKey();
        return n;
    }

    /** Forgets every share (guest reboot: a fresh guest has shared nothing). */
    public synchronized void clear() {
        regions.clear();
    }
}
