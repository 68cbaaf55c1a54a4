package dev.jvmm.core.arch.aarch64;

/**
 * The guest's generic-timer counter in a snapshot (key {@code counter}; see {@link
 * CounterSnapshot}).
 *
 * @param virtualCount the guest's virtual counter (CNTVCT_EL0) when saved
 * @param frequency the counter's frequency in Hz (CNTFRQ_EL0 of the host it ran on)
 */
public record CounterState(long virtualCount, long frequency) {}
