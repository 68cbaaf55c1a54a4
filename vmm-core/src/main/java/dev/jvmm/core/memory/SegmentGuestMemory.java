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
        return segment.asSlice(offset(gpa, len), len);
    }

    /** Offset of [gpa, gpa+len) in the segment; throws when any byte is outside. */
    private long offset(long gpa, long len) {
        if (!contains(gpa, len)) throw new GuestMemoryException(gpa, len, "is outside guest RAM");
        return gpa - base;
    }

    // The scalar accessors read the segment in place: the defaults' slice per access is an
    // allocation each (C1, which the lab's JVM runs, has no escape analysis), and virtqueue code
    // makes several per descriptor.

    @Override
    public short readShort(long gpa) {
        return segment.get(LE_SHORT, offset(gpa, 2));
    }

    @Override
    public int readInt(long gpa) {
        return segment.get(LE_INT, offset(gpa, 4));
    }

    @Override
    public long readLong(long gpa) {
        return segment.get(LE_LONG, offset(gpa, 8));
    }

    @Override
    public void writeShort(long gpa, short v) {
        segment.set(LE_SHORT, offset(gpa, 2), v);
    }

    @Override
    public void writeInt(long gpa, int v) {
        segment.set(LE_INT, offset(gpa, 4), v);
    }

    @Override
    public void writeLong(long gpa, long v) {
        segment.set(LE_LONG, offset(gpa, 8), v);
    }
}
