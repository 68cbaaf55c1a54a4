package dev.jvmm.core.hypercall.shared;

import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.Snapshottable;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.OptionalLong;

/**
 * The set of guest RAM granules currently shared with the host: one bit per granule of RAM, so the
 * guest cannot make it cost more than RAM / granule bits (32 KiB per GiB with 4 KiB granules),
 * however it fragments its shares (nothing until the first share). The coalesced regions (adjacent
 * granules merge) are derived on demand, a bounded {@link #regions(long, int) page} at a time;
 * their number and the shared bytes are kept as counters. Thread-safe.
 *
 * <p>Semantics follow pKVM's hypervisor (a granule has one state: shared or not): sharing a range
 * that contains an already-shared granule, or unsharing one that contains a granule that is not
 * shared, is refused as a whole and changes nothing. Bad arguments (misaligned, outside RAM,
 * overflowing) are refused the same way. The caller maps a refusal to INVALID_PARAMETER.
 */
public final class SharedRegionSet implements Snapshottable<SharedRegionsState> {
    private final long ramBase;
    private final long ramBytes;
    private final long granule;
    private final int shift;
    private final int ramGranules;

    /**
     * Bit i: granule {@code ramBase + i * granule}. Allocated at its full size on the first share.
     */
    private BitSet shared = new BitSet(0);

    private long regionCount;
    private long sharedGranules;

    /**
     * One page of the coalesced regions.
     *
     * @param regions at most the limit asked for, in address order
     * @param totalRegions how many regions the whole set has
     * @param totalBytes how many bytes the whole set covers
     * @param next the IPA to ask from for the next page; empty when this page reaches the end
     */
    public record Page(
            List<SharedRegion> regions, long totalRegions, long totalBytes, OptionalLong next) {}

    public SharedRegionSet(long ramBase, long ramBytes, long granule) {
        if (Long.bitCount(granule) != 1
                || ramBase % granule != 0
                || ramBytes % granule != 0
                || ramBytes <= 0
                || ramBytes / granule > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(
                    String.format("RAM 0x%x+0x%x with granule 0x%x", ramBase, ramBytes, granule));
        }
        this.ramBase = ramBase;
        this.ramBytes = ramBytes;
        this.granule = granule;
        this.shift = Long.numberOfTrailingZeros(granule);
        this.ramGranules = (int) (ramBytes / granule);
    }

    public long granule() {
        return granule;
    }

    /**
     * Why {@code [ipa, ipa + granules * granule)} is not a valid range of RAM granules, or null
     * when it is.
     */
    public String invalidReason(long ipa, long granules) {
        if (granules < 1) return "granule count " + Long.toUnsignedString(granules);
        if ((ipa & (granule - 1)) != 0)
            return String.format("IPA 0x%x is not %d-byte aligned", ipa, granule);
        long ramGranules = ramBytes / granule;
        if (Long.compareUnsigned(granules, ramGranules) > 0) {
            return "granule count " + Long.toUnsignedString(granules) + " exceeds RAM";
        }
        // ipa is unsigned: anything below the base or past the end (including wrap-around) is
        // outside
        long offset = ipa - ramBase;
        if (Long.compareUnsigned(ipa, ramBase) < 0
                || Long.compareUnsigned(offset, ramBytes) >= 0
                || granules > (ramBytes - offset) / granule) {
            return String.format(
                    "0x%x + %d granules is outside RAM 0x%x-0x%x",
                    ipa, granules, ramBase, ramBase + ramBytes - 1);
        }
        return null;
    }

    /**
     * Shares the range; false (nothing changed) when it is invalid or any granule is already
     * shared.
     */
    public synchronized boolean share(long ipa, long granules) {
        if (invalidReason(ipa, granules) != null) return false;
        int from = index(ipa), to = from + (int) granules;
        int firstShared = shared.nextSetBit(from);
        if (firstShared >= 0 && firstShared < to) return false;
        if (shared.size() == 0)
            shared =
                    new BitSet(
                            ramGranules); // never grown by doubling past RAM        // a new run,
        // minus one for each neighbour run it joins
        regionCount += 1 - (from > 0 && shared.get(from - 1) ? 1 : 0) - (shared.get(to) ? 1 : 0);
        shared.set(from, to);
        sharedGranules += granules;
        return true;
    }

    /**
     * Unshares the range; false (nothing changed) when it is invalid or any granule is not shared.
     */
    public synchronized boolean unshare(long ipa, long granules) {
        if (invalidReason(ipa, granules) != null) return false;
        int from = index(ipa), to = from + (int) granules;
        if (shared.nextClearBit(from) < to) return false;
        // the run it lies in goes, and a shared neighbour on either side remains as a run of its
        // own
        regionCount += -1 + (from > 0 && shared.get(from - 1) ? 1 : 0) + (shared.get(to) ? 1 : 0);
        shared.clear(from, to);
        sharedGranules -= granules;
        return true;
    }

    /** True when every granule of the range is shared. */
    public synchronized boolean isShared(long ipa, long bytes) {
        if (bytes <= 0) return false;
        long first = ipa & -granule,
                end = ipa + bytes; // [first, end): the granules the bytes touch
        long granules = (end - first + granule - 1) >>> shift;
        if (invalidReason(first, granules) != null) return false;
        int from = index(first);
        return shared.nextClearBit(from) >= from + (int) granules;
    }

    /**
     * All shared regions in address order (a snapshot; as many as the guest made: use {@link
     * #regions(long, int)} where that matters).
     */
    public synchronized List<SharedRegion> regions() {
        return regions(ramBase, Integer.MAX_VALUE).regions();
    }

    /**
     * At most {@code limit} regions, in address order, of the shared set from the granule holding
     * {@code fromIpa} on (unsigned; an IPA below RAM starts at RAM); a region that began below it
     * is reported from that granule. Costs O(limit + bitmap words scanned), never a list of the
     * whole set.
     */
    public synchronized Page regions(long fromIpa, int limit) {
        if (limit < 1) throw new IllegalArgumentException("limit " + limit);
        long totalBytes = sharedGranules * granule;
        List<SharedRegion> out =
                new ArrayList<>(Math.min(limit, (int) Math.min(regionCount, 1024)));
        if (Long.compareUnsigned(fromIpa - ramBase, ramBytes) >= 0
                && Long.compareUnsigned(fromIpa, ramBase) >= 0) {
            return new Page(out, regionCount, totalBytes, OptionalLong.empty()); // past RAM
        }
        int i = Long.compareUnsigned(fromIpa, ramBase) < 0 ? 0 : index(fromIpa & -granule);
        while ((i = shared.nextSetBit(i)) >= 0) {
            if (out.size() == limit) { // more to come: the next page asks from where this one ended
                return new Page(out, regionCount, totalBytes, OptionalLong.of(out.getLast().end()));
            }
            int end = shared.nextClearBit(i);
            out.add(new SharedRegion(address(i), (long) (end - i) << shift));
            i = end;
        }
        return new Page(out, regionCount, totalBytes, OptionalLong.empty());
    }

    /** How many coalesced regions the set has. */
    public synchronized long regionCount() {
        return regionCount;
    }

    public synchronized long sharedBytes() {
        return sharedGranules * granule;
    }

    /** Bytes the bitmap holds: at most RAM / granule / 8, whatever the guest does. */
    public synchronized long footprintBytes() {
        return shared.size() / 8;
    }

    /**
     * One line for a log: the number of regions and their size, and the first {@code max} regions,
     * e.g. {@code 3 regions, 24 KiB: [0x80100000-0x80100fff (4 KiB), ...]}, ending in {@code , +N
     * more]} when there are more.
     */
    public synchronized String summary(int max) {
        Page p = regions(ramBase, Math.max(1, max));
        StringBuilder b = new StringBuilder();
        b.append(regionCount)
                .append(regionCount == 1 ? " region, " : " regions, ")
                .append(sharedBytes() / 1024)
                .append(" KiB");
        if (regionCount == 0) return b.toString();
        b.append(": [");
        List<SharedRegion> shown = max < 1 ? List.of() : p.regions();
        for (int i = 0; i < shown.size(); i++) b.append(i == 0 ? "" : ", ").append(shown.get(i));
        if (regionCount > shown.size())
            b.append(shown.isEmpty() ? "" : ", ")
                    .append('+')
                    .append(regionCount - shown.size())
                    .append(" more");
        return b.append(']').toString();
    }

    /** Forgets every share (guest reboot: a fresh guest has shared nothing). */
    public synchronized void clear() {
        shared.clear();
        regionCount = 0;
        sharedGranules = 0;
    }

    @Override
    public String stateKey() {
        return "shared-regions";
    }

    @Override
    public Class<SharedRegionsState> stateType() {
        return SharedRegionsState.class;
    }

    @Override
    public synchronized SharedRegionsState saveState() {
        return new SharedRegionsState(granule, regions());
    }

    /**
     * Shares the saved regions in a scratch set first, so a region that is misaligned, outside RAM,
     * overlapping or touching its neighbour (the saved list is coalesced) is refused with nothing
     * applied.
     */
    @Override
    public synchronized void restoreState(SharedRegionsState s) {
        if (s.granule() != granule) {
            throw SnapshotException.invalid(
                    stateKey(),
                    String.format("granule 0x%x is not this VM's 0x%x", s.granule(), granule));
        }
        if (s.regions() == null) throw SnapshotException.invalid(stateKey(), "regions missing");
        SharedRegionSet scratch = new SharedRegionSet(ramBase, ramBytes, granule);
        long end = Long.MIN_VALUE;
        for (SharedRegion r : s.regions()) {
            String why =
                    r == null
                            ? "missing"
                            : r.size() <= 0 || r.size() % granule != 0
                                    ? "size is not a positive multiple of the granule"
                                    : end != Long.MIN_VALUE
                                                    && Long.compareUnsigned(r.start(), end) <= 0
                                            ? "overlaps or touches the region before it"
                                            : invalidReason(r.start(), r.size() / granule);
            if (why == null && !scratch.share(r.start(), r.size() / granule)) why = "refused";
            if (why != null)
                throw SnapshotException.invalid(stateKey(), "region " + r + ": " + why);
            end = r.end();
        }
        shared = scratch.shared;
        regionCount = scratch.regionCount;
        sharedGranules = scratch.sharedGranules;
    }

    private int index(long ipa) {
        return (int) ((ipa - ramBase) >>> shift);
    }

    private long address(int index) {
        return ramBase + ((long) index << shift);
    }
}
