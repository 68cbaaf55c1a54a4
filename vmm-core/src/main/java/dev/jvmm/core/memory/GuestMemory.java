package dev.jvmm.core.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Guest physical memory as devices and loaders see it: addressed by guest physical address (IPA),
 * little-endian, every access bounds-checked. Out-of-range accesses raise {@link
 * GuestMemoryException}, which device code turns into a device error rather than letting it kill a
 * vCPU thread.
 */
public interface GuestMemory {
    ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Lowest guest physical address backed by this memory. */
    long base();

    /** Size in bytes. */
    long size();

    /** True when [gpa, gpa+len) lies wholly inside this memory (overflow-safe). */
    default boolean contains(long gpa, long len) {
        if (len < 0 || gpa < base()) return false;
        long off = gpa - base();
        return off <= size() && len <= size() - off;
    }

    /** A view of [gpa, gpa+len); throws {@link GuestMemoryException} when any byte is outside. */
    MemorySegment slice(long gpa, long len);

    default void write(long gpa, byte[] src) {
        MemorySegment.copy(src, 0, slice(gpa, src.length), ValueLayout.JAVA_BYTE, 0, src.length);
    }

    default void read(long gpa, byte[] dst) {
        MemorySegment.copy(slice(gpa, dst.length), ValueLayout.JAVA_BYTE, 0, dst, 0, dst.length);
    }

    default byte readByte(long gpa) {
        return slice(gpa, 1).get(ValueLayout.JAVA_BYTE, 0);
    }

    default short readShort(long gpa) {
        return slice(gpa, 2).get(LE_SHORT, 0);
    }

    default int readInt(long gpa) {
        return slice(gpa, 4).get(LE_INT, 0);
    }

    default long readLong(long gpa) {
        return slice(gpa, 8).get(LE_LONG, 0);
    }

    default void writeByte(long gpa, byte v) {
        slice(gpa, 1).set(ValueLayout.JAVA_BYTE, 0, v);
    }

    default void writeShort(long gpa, short v) {
        slice(gpa, 2).set(LE_SHORT, 0, v);
    }

    default void writeInt(long gpa, int v) {
        slice(gpa, 4).set(LE_INT, 0, v);
    }

    default void writeLong(long gpa, long v) {
        slice(gpa, 8).set(LE_LONG, 0, v);
    }
}
