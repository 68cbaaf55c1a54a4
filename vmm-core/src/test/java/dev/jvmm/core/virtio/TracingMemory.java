package dev.jvmm.core.virtio;

import dev.jvmm.core.memory.GuestMemory;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** A {@link GuestMemory} view that records every access's start address. */
final class TracingMemory implements GuestMemory {
    final GuestMemory inner;
    final List<Long> touched = new ArrayList<>();

    TracingMemory(GuestMemory inner) {
        this.inner = inner;
    }

    @Override
    public long base() {
        return inner.base();
    }

    @Override
    public long size() {
        return inner.size();
    }

    @Override
    public synchronized MemorySegment slice(long gpa, long len) {
        touched.add(gpa);
        return inner.slice(gpa, len);
    }

    synchronized boolean touchedIn(long from, long to) {
        return touched.stream().anyMatch(a -> a >= from && a < to);
    }
}
