package dev.jvmm.core.api;

import java.util.List;

/**
 * The SMCCC call counters: one per function ID jvmm serves that the guest called, one per denied or
 * unclaimed ID for the first 64 such IDs, and the sum of calls to any further ID ({@code
 * otherCalls}).
 *
 * @param calls by function ID
 * @param otherCalls calls to denied or unclaimed IDs that have no counter of their own
 */
public record HypercallStats(List<HypercallCount> calls, long otherCalls) {
    public HypercallStats {
        calls = List.copyOf(calls);
    }
}
