package dev.jvmm.core.firmware;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class StolenTimeRecordsTest {
    private static final ValueLayout.OfLong LE =
            ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void readsEachVcpusLittleEndianStolenTimeAtOffset8() {
        MemorySegment m = MemorySegment.ofArray(new long[3 * 8]);
        m.set(ValueLayout.JAVA_INT, 0, 0); // revision
        m.set(LE, 8, 1_800_000_000L); // vCPU 0: 1.8 s
        m.set(LE, 64 + 8, 5L);
        m.set(LE, 128 + 8, 0x0102030405060708L);
        m.set(LE, 128, -1L); // revision/attributes are not stolen time
        StolenTimeRecords r = new StolenTimeRecords(m, 0x1020000, 3);
        assertEquals(3, r.cpus());
        assertEquals(1_800_000_000L, r.stolenNanos(0));
        assertArrayEquals(new long[] {1_800_000_000L, 5L, 0x0102030405060708L}, r.stolenNanos());
        assertEquals(0x1020000L, r.address(0));
        assertEquals(0x1020080L, r.address(2));
        assertThrows(IndexOutOfBoundsException.class, () -> r.stolenNanos(3));
        assertThrows(IndexOutOfBoundsException.class, () -> r.address(-1));
    }

    @Test
    void clearZeroesOnlyTheRecords() {
        MemorySegment m = MemorySegment.ofArray(new long[3 * 8]);
        m.set(LE, 8, 7L);
        m.set(LE, 64 + 8, 9L);
        m.set(LE, 128 + 8, 11L);
        StolenTimeRecords r = new StolenTimeRecords(m, 0x1020000, 2);
        r.clear();
        assertArrayEquals(new long[] {0, 0}, r.stolenNanos());
        assertEquals(11L, m.get(LE, 128 + 8), "bytes past the last record are not ours");
    }

    @Test
    void regionMustHoldEveryRecord() {
        var e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> new StolenTimeRecords(MemorySegment.ofArray(new long[8]), 0, 2));
        assertEquals("2 records do not fit 64 bytes", e.getMessage());
    }
}
