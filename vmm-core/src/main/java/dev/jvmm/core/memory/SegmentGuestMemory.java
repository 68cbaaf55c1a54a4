package dev.jvmm.core.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * {@link GuestMemory} over one contiguous {@link MemorySegment}: heap-backed in tests, mmap-backed
 * in real runs.
 */
public final class SegmentGuestMemory implements GuestMemory {
    private final long base;
    private final MemorySegment segment;

    public SegmentGuestMemory(long base, MemorySegment segment) {
        if (base < 0) throw new IllegalArgumentException("negative base");
        this.base = base;
        this.segment = segment;
    }

    /** Zeroed heap-backed memory for unit tests. */
    public static SegmentGuestMemory onHeap(long base, int size) {
        return new SegmentGuestMemory(base, MemorySegment.ofArray(new byte[size]));
    }

    /** Zeroed off-heap memory owned by {@code arena}. */
    public static SegmentGuestMemory allocate(Arena arena, long base, long size) {
        return new SegmentGuestMemory(base, arena.allocate(size, 4096));
    }

    @Override
    public long base() {
        return base;
    }

    @Override
    public long size() {
        return segment.byteSize();
    }

    /** The backing segment (for the memslot's userspace address). */
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public MemorySegment slice(long gpa, long len) {
        if (!contains(gpa, len)) throw new GuestMemoryException(gpa, len, "is outside guest RAM");
        return segment.asSlice(gpa - base, len);
    }
}
