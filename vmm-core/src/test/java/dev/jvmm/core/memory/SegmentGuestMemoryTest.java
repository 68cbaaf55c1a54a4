package dev.jvmm.core.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The in-place scalar accessors: little-endian at any alignment, bounds-checked like a slice. */
class SegmentGuestMemoryTest {
    private static final long BASE = 0x8000_0000L;

    @Test
    void scalarsAreLittleEndianAtAnyAlignmentAndAgreeWithSlices() {
        for (SegmentGuestMemory m :
                new SegmentGuestMemory[] {
                    SegmentGuestMemory.onHeap(BASE, 64),
                    SegmentGuestMemory.allocate(Arena.ofAuto(), BASE, 64)
                }) {
            m.writeLong(BASE + 3, 0x0102_0304_0506_0708L);
            assertArrayEquals(
                    new byte[] {8, 7, 6, 5, 4, 3, 2, 1},
                    m.slice(BASE + 3, 8).toArray(ValueLayout.JAVA_BYTE));
            assertEquals(0x0102_0304_0506_0708L, m.readLong(BASE + 3));
            assertEquals(0x0506_0708, m.readInt(BASE + 3));
            assertEquals((short) 0x0304, m.readShort(BASE + 7));
            m.writeInt(BASE + 17, 0xCAFE_BABE);
            m.writeShort(BASE + 33, (short) 0xBEEF);
            assertEquals(0xCAFE_BABE, m.slice(BASE + 17, 4).get(GuestMemory.LE_INT, 0), "writeInt");
            assertEquals(
                    (short) 0xBEEF,
                    m.slice(BASE + 33, 2).get(GuestMemory.LE_SHORT, 0),
                    "writeShort");
            m.writeLong(BASE + 56, -1L); // the last 8 bytes
            assertEquals(-1L, m.readLong(BASE + 56));
        }
    }

    @Test
    void scalarsOutsideTheMemoryThrowWithoutTouchingIt() {
        SegmentGuestMemory m = SegmentGuestMemory.onHeap(BASE, 64);
        assertThrows(GuestMemoryException.class, () -> m.readLong(BASE + 57)); // 1 byte over
        assertThrows(GuestMemoryException.class, () -> m.readInt(BASE - 1));
        assertThrows(GuestMemoryException.class, () -> m.readShort(BASE + 63));
        assertThrows(GuestMemoryException.class, () -> m.writeLong(Long.MAX_VALUE - 3, 1L));
        assertThrows(GuestMemoryException.class, () -> m.writeInt(BASE + 61, 1));
        assertThrows(GuestMemoryException.class, () -> m.writeShort(-2L, (short) 1));
        assertArrayEquals(new byte[64], m.slice(BASE, 64).toArray(ValueLayout.JAVA_BYTE));
    }
}
