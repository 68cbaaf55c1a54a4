package dev.jvmm.core.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.sys.Libc;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot read ahead (from main, before the command line is parsed) gives what a read on the
 * calling thread gives: the same manifest and memory, the same refusal for a missing or damaged
 * snapshot at the same step, and its memory check is the one {@link Snapshot#mapMemory} uses.
 */
class SnapshotAheadTest {
    @TempDir Path tmp;

    @Test
    void aReadAheadGivesTheSnapshotAndItsMemoryCheck() {
        Path dir = tmp.resolve("snap");
        SnapshotFilesTest.write(dir);
        SnapshotAhead.startEarly(dir.toString());
        Snapshot ahead = SnapshotAhead.open(dir);
        assertEquals(Snapshot.open(dir).manifest(), ahead.manifest());
        MemorySegment ram = SnapshotFilesTest.nativeRam();
        try {
            Snapshot.MemoryLoad load = ahead.mapMemory(ram);
            assertTrue(load.mapped());
            assertTrue(load.crcAhead(), "the CRC32C computed ahead is the one compared");
            assertEquals(-1, ram.mismatch(SnapshotFilesTest.ram()));
        } finally {
            Libc.munmap(ram);
        }
    }

    @Test
    void aDamagedMemoryFileIsRefusedWhereItsMemoryIsMapped() throws IOException {
        Path dir = tmp.resolve("snap");
        SnapshotFilesTest.write(dir);
        Path mem = dir.resolve(SnapshotFormat.MEMORY);
        try (FileChannel ch = FileChannel.open(mem, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {7}), 40L * SnapshotFilesTest.PAGE + 100);
        }
        SnapshotAhead.startEarly(dir.toString());
        Snapshot ahead = SnapshotAhead.open(dir); // the manifest is fine
        MemorySegment ram = SnapshotFilesTest.nativeRam();
        try {
            SnapshotException e = assertThrows(SnapshotException.class, () -> ahead.mapMemory(ram));
            assertEquals(
                    "snapshot " + mem + ": content check failed (the file is damaged)",
                    e.getMessage());
        } finally {
            Libc.munmap(ram);
        }
    }

    @Test
    void aMissingSnapshotIsRefusedAsByAReadNow() {
        Path dir = tmp.resolve("none");
        String now = assertThrows(SnapshotException.class, () -> Snapshot.open(dir)).getMessage();
        SnapshotAhead.startEarly(dir.toString());
        SnapshotException e = assertThrows(SnapshotException.class, () -> SnapshotAhead.open(dir));
        assertEquals(now, e.getMessage());
        assertEquals("snapshot " + dir + ": no such directory", e.getMessage());
    }

    @Test
    void anotherDirectoryIsReadNowNotTakenFromTheEarlyRead() {
        Path first = tmp.resolve("first"), second = tmp.resolve("second");
        SnapshotFilesTest.write(first);
        SnapshotFilesTest.write(second);
        SnapshotAhead.startEarly(first.toString());
        Snapshot s = SnapshotAhead.open(second);
        assertEquals(second, s.dir());
        // the early read was dropped: a later open of the first reads it again, on this thread
        Snapshot again = SnapshotAhead.open(first);
        assertEquals(first, again.dir());
        assertNotSame(s, again);
        MemorySegment ram = SnapshotFilesTest.nativeRam();
        try {
            assertFalse(again.mapMemory(ram).crcAhead(), "read now: its own check");
        } finally {
            Libc.munmap(ram);
        }
    }
}
