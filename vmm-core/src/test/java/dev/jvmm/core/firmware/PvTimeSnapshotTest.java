package dev.jvmm.core.firmware;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.StateJson;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** PV stolen time across a snapshot, on heap memory standing in for the PV-time mapping. */
class PvTimeSnapshotTest {
    private static final ValueLayout.OfLong LE =
            ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 =
            ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int CPUS = 3;
    private static final long BASE = Layout.PVTIME_BASE;

    /** A fresh, zeroed records region as a machine of {@code cpus} vCPUs maps it. */
    private static MemorySegment region() {
        return MemorySegment.ofArray(new long[(int) (Layout.PVTIME_SIZE / 8)]);
    }

    private static StolenTimeRecords records(MemorySegment m, int cpus) {
        return new StolenTimeRecords(m, BASE, cpus);
    }

    private static String json(PvTimeSnapshot p) {
        return StateJson.write(p.saveState());
    }

    private static PvTimeState read(String json) {
        return StateJson.read(json, PvTimeState.class, "pvtime");
    }

    @Test
    void theRestoredRegionGivesEachVcpuItsStolenTimeBack() {
        MemorySegment m = region();
        // as KVM writes them: revision, attributes, then stolen_time (LE u64 at 8) per record
        for (int cpu = 0; cpu < CPUS; cpu++) {
            m.set(LE32, 64L * cpu, 0);
            m.set(LE32, 64L * cpu + 4, 0);
        }
        m.set(LE, 8, 1_800_000_000L);
        m.set(LE, 64 + 8, 5L);
        m.set(LE, 128 + 8, 0x0102030405060708L);
        String json = json(PvTimeSnapshot.on(records(m, CPUS)));

        MemorySegment fresh = region();
        StolenTimeRecords restored = records(fresh, CPUS);
        PvTimeSnapshot part = PvTimeSnapshot.on(restored);
        part.restoreState(read(json));

        assertArrayEquals(
                new long[] {1_800_000_000L, 5L, 0x0102030405060708L}, restored.stolenNanos());
        assertArrayEquals(m.toArray(ValueLayout.JAVA_BYTE), fresh.toArray(ValueLayout.JAVA_BYTE));
        assertEquals(json, json(part), "saving the restored part gives the same record");
        PvTimeState s = read(json);
        assertTrue(s.enabled());
        assertEquals(List.of(BASE, BASE + 64, BASE + 128), s.recordIpas());
        assertEquals(Layout.PVTIME_SIZE, s.regionSize());
        // up to the last non-zero byte (vCPU 2's stolen_time ends at 128 + 16), not 64 KiB
        assertEquals(144, s.region().length);
    }

    @Test
    void aTrimmedOrWholeRegionRestoresTheSameAndZeroesTheRest() {
        MemorySegment m = region();
        m.set(LE, 64 + 8, 77L);
        PvTimeState trimmed = PvTimeSnapshot.on(records(m, CPUS)).saveState();
        assertEquals(73, trimmed.region().length); // 77 is the low byte of the LE long at 72
        byte[] whole = m.toArray(ValueLayout.JAVA_BYTE); // as older snapshots hold it
        for (byte[] region : List.of(trimmed.region(), whole)) {
            MemorySegment dirty = region();
            dirty.fill((byte) 0x5a); // whatever was there before is replaced, zeros included
            PvTimeSnapshot.on(records(dirty, CPUS))
                    .restoreState(
                            read(
                                    StateJson.write(
                                            new PvTimeState(
                                                    true,
                                                    trimmed.recordIpas(),
                                                    trimmed.regionSize(),
                                                    region))));
            assertArrayEquals(whole, dirty.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void offRoundTripsAndMismatchesAreRefused() {
        String off = json(PvTimeSnapshot.off());
        PvTimeSnapshot.off().restoreState(read(off));
        assertFalse(read(off).enabled());

        String on = json(PvTimeSnapshot.on(records(region(), CPUS)));
        assertRefused(
                () -> PvTimeSnapshot.off().restoreState(read(on)),
                "snapshot: pvtime: the guest had PV stolen time; this machine is built without"
                        + " it");
        MemorySegment fresh = region();
        assertRefused(
                () -> PvTimeSnapshot.on(records(fresh, CPUS)).restoreState(read(off)),
                "snapshot: pvtime: the guest had no PV stolen time; this machine is built with"
                        + " it");
        assertRefused(
                () ->
                        PvTimeSnapshot.off()
                                .restoreState(
                                        new PvTimeState(false, List.of(BASE), 0, new byte[0])),
                "snapshot: pvtime: PV stolen time is off but the record holds records");
    }

    @Test
    void hostileRecordsAreRefusedNamingWhatIsWrongAndChangeNothing() {
        MemorySegment m = region();
        m.set(LE, 8, 42L);
        PvTimeState good = PvTimeSnapshot.on(records(m, CPUS)).saveState();
        byte[] bytes = good.region();
        long size = good.regionSize();

        hostile(
                new PvTimeState(true, List.of(BASE, BASE + 64), size, bytes),
                "snapshot: pvtime: 2 vCPU records for a machine of 3 vCPUs");
        hostile(
                new PvTimeState(true, List.of(BASE, BASE + 128, BASE + 64), size, bytes),
                "snapshot: pvtime: vCPU 1's record was at 0x1020080; this machine put it at"
                        + " 0x1020040");
        hostile(
                new PvTimeState(true, good.recordIpas(), 4096, Arrays.copyOf(bytes, 4096)),
                "snapshot: pvtime: region of 4096 bytes; this machine's is 65536");
        hostile(
                new PvTimeState(
                        true, good.recordIpas(), size, Arrays.copyOf(bytes, (int) size + 1)),
                "snapshot: pvtime: region holds 65537 bytes, more than its 65536");
        hostile(
                new PvTimeState(true, good.recordIpas(), size, null),
                "snapshot: pvtime: region missing");
    }

    /** {@code s}, through JSON, is refused by a fresh machine's part, whose region stays zero. */
    private static void hostile(PvTimeState s, String expected) {
        MemorySegment fresh = region();
        PvTimeSnapshot part = PvTimeSnapshot.on(records(fresh, CPUS));
        PvTimeState viaJson = read(StateJson.write(s));
        assertRefused(() -> part.restoreState(viaJson), expected);
        assertArrayEquals(
                new byte[(int) Layout.PVTIME_SIZE],
                fresh.toArray(ValueLayout.JAVA_BYTE),
                "nothing written");
    }

    private static void assertRefused(Runnable r, String expected) {
        SnapshotException e = assertThrows(SnapshotException.class, r::run);
        assertEquals(expected, e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
