package dev.jvmm.core.hypercall.shared;

import java.util.List;

/**
 * What a snapshot keeps of a {@link SharedRegionSet}: the granule the guest was told (HYP_MEMINFO)
 * and the coalesced shared regions, in address order.
 */
public record SharedRegionsState(long granule, List<SharedRegion> regions) {}
