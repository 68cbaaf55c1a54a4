package dev.jvmm.core.snapshot;

import java.util.Map;

/**
 * One part's record in the snapshot: its {@link Snapshottable#stateKey} and the record as a JSON
 * object (read back into the part's record type with {@link StateJson}).
 */
public record PartState(String key, Map<String, Object> state) {}
