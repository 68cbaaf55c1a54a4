package dev.jvmm.core.snapshot;

import java.util.List;

/**
 * The content of {@code snapshot.json} (without its trailing content check): see {@link
 * SnapshotFormat}.
 *
 * @param jvmm the jvmm version that wrote it, informational
 * @param created when the snapshot was taken (ISO-8601, UTC), informational
 * @param parts every part's record, in restore order
 */
public record SnapshotManifest(
        String format,
        int version,
        String jvmm,
        String created,
        GuestDefinition guest,
        HostFacts host,
        MemoryImage memory,
        List<PartState> parts) {
    public SnapshotManifest {
        parts = List.copyOf(parts);
    }
}
