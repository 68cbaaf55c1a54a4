package dev.jvmm.core.api;

import java.util.List;
import java.util.OptionalLong;

/**
 * One page of the guest's shared memory regions, as the control API answers it: at most the limit
 * asked for, in address order, with the size of the whole set, so an answer never grows with what
 * the guest did.
 *
 * @param regions coalesced regions, sorted by IPA
 * @param totalRegions how many regions the whole set has
 * @param totalBytes how many bytes the whole set covers
 * @param next the IPA to ask {@code from} for the next page; empty when this page reaches the end
 */
public record SharedRegionPage(
        List<SharedRegion> regions, long totalRegions, long totalBytes, OptionalLong next) {
    public SharedRegionPage {
        regions = List.copyOf(regions);
    }
}
