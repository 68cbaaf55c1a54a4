package dev.jvmm.core.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.JvmmException;
import dev.jvmm.kvm.sys.Libc;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot directory: written and read back (records, memory with holes), and every way a
 * damaged, foreign, half-written or reused directory is refused with one line naming it.
 */
class SnapshotFilesTest {
    static final int PAGE = SnapshotFormat.PAGE_SIZE;
    private static final long RAM = 64L * PAGE;

    @TempDir Path tmp;

    record Uart(int ier, List<Integer> fifo) {}

    @SuppressWarnings("ArrayRecordComponent") // plain snapshot data
    record Cpu(long pc, byte[] z0) {}

    /** Pages 1, 2 and 40 hold data; the rest are zero. */
    static MemorySegment ram() {
        MemorySegment m = MemorySegment.ofArray(new byte[(int) RAM]);
        m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, PAGE + 7, (byte) 1);
        m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 3L * PAGE - 1, (byte) 2);
        m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 40L * PAGE + 100, (byte) 3);
        return m;
    }

    static GuestDefinition guest() {
        return new GuestDefinition(
                2,
                RAM,
                "console=ttyS0",
                "GICV3",
                false,
                true,
                true,
                "1.1",
                Map.of("STD_BMAP", 1L, "STD_HYP_BMAP", 1L),
                true,
                false,
                List.of(),
                List.of(),
                false,
                List.of(),
                List.of(),
                List.of(new GuestDefinition.NetDefinition("tap0", "52:54:00:12:34:56")),
                true,
                false,
                false,
                "mmio",
                null);
    }

    static HostFacts host() {
        return new HostFacts(
                Map.of("STD_BMAP", 1L, "STD_HYP_BMAP", 1L, "VENDOR_HYP_BMAP", 3L),
                "1.1",
                Map.of("1", 1L, "2", 1L, "3", 1L),
                25_000_000L,
                40,
                List.of(128, 256),
                true,
                false,
                false,
                "6.12.0");
    }

    /** Writes a complete snapshot of {@link #ram()} and two parts into {@code dir}. */
    static long write(Path dir) {
        SnapshotWriter w = SnapshotWriter.create(dir);
        List<PartState> parts = new ArrayList<>();
        parts.add(
                SnapshotWriter.partState(
                        "vcpu.0", new Cpu(0xffff_8000_0010_0000L, new byte[] {9, 8})));
        parts.add(SnapshotWriter.partState("uart", new Uart(5, List.of(65, 66))));
        MemoryImage mem = w.writeMemory(ram());
        long manifest =
                w.writeManifest(
                        new SnapshotManifest(
                                SnapshotFormat.NAME,
                                SnapshotFormat.VERSION,
                                "test",
                                "2026-12-06T00:00:00Z",
                                guest(),
                                host(),
                                mem,
                                parts));
        return mem.dataBytes() + manifest;
    }

    @Test
    void roundTripKeepsRecordsConfigurationAndMemory() {
        Path dir = tmp.resolve("snap");
        long bytes = write(dir);
        Snapshot s = Snapshot.open(dir);
        SnapshotManifest m = s.manifest();
        assertEquals(guest(), m.guest());
        assertEquals(host(), m.host());
        assertEquals(List.of("vcpu.0", "uart"), m.parts().stream().map(PartState::key).toList());
        Cpu cpu = s.state(m.parts().get(0), Cpu.class);
        assertEquals(0xffff_8000_0010_0000L, cpu.pc());
        assertArrayEquals(new byte[] {9, 8}, cpu.z0());
        assertEquals(new Uart(5, List.of(65, 66)), s.state(m.parts().get(1), Uart.class));
        // only the three pages with data were written, as two runs
        assertEquals(List.of(1L, 2L, 40L, 1L), m.memory().runs());
        assertEquals(3L * PAGE, m.memory().dataBytes());
        assertTrue(bytes > 3L * PAGE && bytes < 3L * PAGE + 8192, "bytes " + bytes);

        MemorySegment back = MemorySegment.ofArray(new byte[(int) RAM]);
        s.loadMemory(back);
        assertEquals(-1, back.mismatch(ram()));
    }

    @Test
    void zeroPagesAreHolesInTheMemoryFile() throws Exception {
        Path dir = tmp.resolve("snap");
        write(dir);
        Path mem = dir.resolve(SnapshotFormat.MEMORY);
        assertEquals(RAM, Files.size(mem));
        long allocated = allocatedBytes(mem);
        // 3 data pages (+ the last byte that sets the length), far below the 64 pages of RAM;
        // a filesystem without holes would allocate them all
        assertTrue(allocated <= 8L * PAGE, "allocated " + allocated + " of " + RAM);
    }

    /** st_blocks * 512, from stat(1): the JDK does not expose it. */
    private static long allocatedBytes(Path p) throws IOException, InterruptedException {
        Process proc =
                new ProcessBuilder("stat", "-c", "%b %B", p.toString())
                        .redirectErrorStream(true)
                        .start();
        String out =
                new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(proc.waitFor(10, TimeUnit.SECONDS));
        String[] f = out.split(" ", -1);
        return Long.parseLong(f[0]) * Long.parseLong(f[1]);
    }

    @Test
    void aNonEmptyDirectoryIsNeverOverwritten() throws IOException {
        Path dir = tmp.resolve("snap");
        write(dir);
        byte[] before = Files.readAllBytes(dir.resolve(SnapshotFormat.MANIFEST));
        SnapshotException e =
                assertThrows(SnapshotException.class, () -> SnapshotWriter.create(dir));
        assertEquals(JvmmException.Kind.USAGE, e.errorKind());
        assertEquals(
                "snapshot "
                        + dir
                        + ": the directory is not empty; a snapshot never overwrites another (give a"
                        + " new or empty directory)",
                e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(dir.resolve(SnapshotFormat.MANIFEST)));
    }

    @Test
    void anEmptyDirectoryIsUsedAndAFileOrMissingParentIsRefused() throws IOException {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        write(empty);
        assertTrue(Files.exists(empty.resolve(SnapshotFormat.MANIFEST)));
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertEquals(
                "snapshot " + file + ": exists and is not a directory",
                assertThrows(SnapshotException.class, () -> SnapshotWriter.create(file))
                        .getMessage());
        Path orphan = tmp.resolve("no/such");
        assertEquals(
                "snapshot " + orphan + ": its parent directory does not exist",
                assertThrows(SnapshotException.class, () -> SnapshotWriter.create(orphan))
                        .getMessage());
    }

    @Test
    void abandonLeavesNoHalfSnapshot() {
        Path dir = tmp.resolve("snap");
        SnapshotWriter w = SnapshotWriter.create(dir);
        w.writeMemory(ram());
        w.abandon();
        assertFalse(Files.exists(dir));
    }

    @Test
    void aHalfWrittenSnapshotIsRefused() {
        Path dir = tmp.resolve("snap");
        SnapshotWriter.create(dir).writeMemory(ram()); // the manifest never came
        assertEquals(
                "snapshot "
                        + dir
                        + ": incomplete snapshot: its writing did not finish (no snapshot.json)",
                refusal(dir));
    }

    @Test
    void aDirectoryWithoutSnapshotIsRefused() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("other"));
        assertEquals("snapshot " + dir + ": not a snapshot (no snapshot.json)", refusal(dir));
        assertEquals(
                "snapshot " + tmp.resolve("none") + ": no such directory",
                refusal(tmp.resolve("none")));
    }

    @Test
    void aDamagedManifestIsRefused() throws IOException {
        Path dir = tmp.resolve("snap");
        write(dir);
        Path m = dir.resolve(SnapshotFormat.MANIFEST);
        Files.writeString(m, Files.readString(m).replace("\"ier\":5", "\"ier\":7"));
        assertEquals(
                "snapshot " + m + ": content check failed (the file is damaged or was edited)",
                refusal(dir));
        String text = Files.readString(m);
        Files.writeString(m, text.substring(0, text.length() / 2));
        assertEquals(
                "snapshot "
                        + m
                        + ": no content check at its end (truncated or not written by jvmm)",
                refusal(dir));
    }

    @Test
    void anotherVersionOrFormatIsRefused() throws IOException {
        Path dir = tmp.resolve("snap");
        write(dir);
        Path m = dir.resolve(SnapshotFormat.MANIFEST);
        String text = Files.readString(m);
        rewrite(m, text, "\"version\":1,", "\"version\":2,");
        assertEquals(
                "snapshot " + m + ": format version 2; this jvmm reads version 1", refusal(dir));
        rewrite(m, text, "\"format\":\"jvmm-snapshot\"", "\"format\":\"qemu\"");
        assertEquals("snapshot " + m + ": not a jvmm snapshot (format \"qemu\")", refusal(dir));
    }

    @Test
    void recordsThatDoNotFitAreRefused() throws IOException {
        Path dir = tmp.resolve("snap");
        write(dir);
        Path m = dir.resolve(SnapshotFormat.MANIFEST);
        String text = Files.readString(m);
        rewrite(m, text, "\"runs\":[1,2,40,1]", "\"runs\":[1,2,63,5]");
        assertEquals(
                "snapshot " + m + ": memory run 1 is out of order or outside RAM", refusal(dir));
        rewrite(m, text, "\"cpus\":2,", "\"cpus\":2,\"gpus\":1,");
        String msg = refusal(dir);
        assertTrue(msg.startsWith("snapshot: " + m + ": ") && msg.contains("gpus"), msg);
        assertFalse(msg.contains("\n"));
    }

    @Test
    void damagedMemoryIsRefused() throws IOException {
        Path dir = tmp.resolve("snap");
        write(dir);
        Path mem = dir.resolve(SnapshotFormat.MEMORY);
        try (var ch =
                java.nio.channels.FileChannel.open(mem, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {42}), 40L * PAGE + 5);
        }
        Snapshot s = Snapshot.open(dir);
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () -> s.loadMemory(MemorySegment.ofArray(new byte[(int) RAM])));
        assertEquals(
                "snapshot " + mem + ": content check failed (the file is damaged)", e.getMessage());
        try (var ch =
                java.nio.channels.FileChannel.open(mem, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(RAM - PAGE);
        }
        assertEquals(
                "snapshot "
                        + mem
                        + ": "
                        + (RAM - PAGE)
                        + " bytes, the manifest says "
                        + RAM
                        + " (damaged)",
                refusal(dir));
    }

    @Test
    void everyCorruptedByteOfTheManifestIsRefused() throws IOException {
        Path dir = tmp.resolve("snap");
        write(dir);
        Path m = dir.resolve(SnapshotFormat.MANIFEST);
        byte[] good = Files.readAllBytes(m);
        for (int i = 0; i < good.length; i++) {
            for (int bit : new int[] {0, 5}) {
                byte[] bad = good.clone();
                bad[i] ^= (byte) (1 << bit);
                Files.write(m, bad);
                String msg = refusal(dir);
                assertTrue(
                        msg.equals(
                                        "snapshot "
                                                + m
                                                + ": content check failed (the file is damaged or was edited)")
                                || msg.equals(
                                        "snapshot "
                                                + m
                                                + ": no content check at its end (truncated or not written by jvmm)")
                                || msg.equals("snapshot " + m + ": not UTF-8 text (damaged)"),
                        "byte " + i + " bit " + bit + ": " + msg);
            }
        }
        Files.write(m, good);
        assertEquals(List.of(1L, 2L, 40L, 1L), Snapshot.open(dir).manifest().memory().runs());
    }

    @Test
    void theCheckIsFoundAtTheVeryEndOnly() throws IOException {
        Path dir = tmp.resolve("snap");
        write(dir);
        Path m = dir.resolve(SnapshotFormat.MANIFEST);
        String text = Files.readString(m);
        assertTrue(text.endsWith("\"}\n"));
        String body = text.substring(0, text.length() - 1);
        // the final newline is covered by the check
        Files.writeString(m, body);
        assertEquals(
                "snapshot " + m + ": content check failed (the file is damaged or was edited)",
                refusal(dir));
        for (String tail : new String[] {"\n\n", "\r\n", " \n", "\n "}) {
            Files.writeString(m, body + tail);
            assertEquals(
                    "snapshot "
                            + m
                            + ": no content check at its end (truncated or not written by jvmm)",
                    refusal(dir),
                    tail);
        }
        // the check's value must be 8 lowercase hex digits
        String digits = body.substring(body.length() - 10, body.length() - 2);
        Files.writeString(
                m, body.substring(0, body.length() - 10) + "0x" + digits.substring(2) + "\"}\n");
        assertEquals(
                "snapshot "
                        + m
                        + ": no content check at its end (truncated or not written by jvmm)",
                refusal(dir));
        Files.writeString(m, text);
        assertEquals(List.of(1L, 2L, 40L, 1L), Snapshot.open(dir).manifest().memory().runs());
    }

    @Test
    void onlyTheRunsAreLoadedNeverAHoleWrittenSince() throws IOException {
        MemorySegment ram = MemorySegment.ofArray(new byte[(int) RAM]);
        // runs at pages 1-2, 10 and 40
        for (long page : new long[] {1, 2, 10, 40})
            ram.set(java.lang.foreign.ValueLayout.JAVA_BYTE, page * PAGE + 3, (byte) (page + 1));
        Path dir = tmp.resolve("snap");
        SnapshotWriter w = SnapshotWriter.create(dir);
        MemoryImage mem = w.writeMemory(ram);
        assertEquals(List.of(1L, 2L, 10L, 1L, 40L, 1L), mem.runs());
        w.writeManifest(
                new SnapshotManifest(
                        SnapshotFormat.NAME,
                        SnapshotFormat.VERSION,
                        "test",
                        "2026-12-07T00:00:00Z",
                        guest(),
                        host(),
                        mem,
                        List.of(SnapshotWriter.partState("uart", new Uart(5, List.of())))));
        // a hole between the runs written since: not covered by the check, so never loaded
        try (var ch =
                java.nio.channels.FileChannel.open(
                        dir.resolve(SnapshotFormat.MEMORY),
                        java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {42, 43}), 5L * PAGE + 100);
        }
        Snapshot s = Snapshot.open(dir);
        MemorySegment back = MemorySegment.ofArray(new byte[(int) RAM]);
        Snapshot.MemoryLoad load = s.loadMemory(back);
        assertEquals(3, load.runs());
        assertEquals(-1, back.mismatch(ram), "RAM as saved, the hole zero");
    }

    /** Anonymous native memory of the guest's size, as guest RAM is mapped (zero, page aligned). */
    static MemorySegment nativeRam() {
        return Libc.mmap(
                RAM,
                Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE,
                -1,
                0,
                "mmap(test RAM)");
    }

    @Test
    void mappedRunsHoldTheDataAndAGuestWriteNeverReachesTheFile() throws IOException {
        Path dir = tmp.resolve("snap");
        write(dir);
        byte[] file = Files.readAllBytes(dir.resolve(SnapshotFormat.MEMORY));
        MemorySegment back = nativeRam();
        try {
            Snapshot.MemoryLoad load = Snapshot.open(dir).mapMemory(back);
            assertTrue(load.mapped(), "mapped, not read");
            assertEquals(2, load.runs());
            assertEquals(-1, back.mismatch(ram()));
            // copy-on-write: the guest's writes stay in its RAM, data pages and holes alike
            back.set(java.lang.foreign.ValueLayout.JAVA_BYTE, PAGE + 7, (byte) 99);
            back.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 5L * PAGE, (byte) 98);
            assertArrayEquals(file, Files.readAllBytes(dir.resolve(SnapshotFormat.MEMORY)));
            assertEquals(99, back.get(java.lang.foreign.ValueLayout.JAVA_BYTE, PAGE + 7));
        } finally {
            Libc.munmap(back);
        }
    }

    @Test
    void aMappedLoadChecksTheContentAndNeverMapsAHole() throws IOException {
        Path dir = tmp.resolve("snap");
        write(dir);
        Path mem = dir.resolve(SnapshotFormat.MEMORY);
        // bytes written into a hole since: not part of any run, so the guest must not see them
        try (var ch = java.nio.channels.FileChannel.open(mem, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {42, 43}), 5L * PAGE + 100);
        }
        MemorySegment back = nativeRam();
        try {
            Snapshot.open(dir).mapMemory(back);
            assertEquals(-1, back.mismatch(ram()), "RAM as saved, the hole zero");
        } finally {
            Libc.munmap(back);
        }
        // a data page changed: refused, as a read load refuses it
        try (var ch = java.nio.channels.FileChannel.open(mem, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {7}), 40L * PAGE + 100);
        }
        MemorySegment again = nativeRam();
        try {
            SnapshotException e =
                    assertThrows(
                            SnapshotException.class, () -> Snapshot.open(dir).mapMemory(again));
            assertEquals(
                    "snapshot " + mem + ": content check failed (the file is damaged)",
                    e.getMessage());
        } finally {
            Libc.munmap(again);
        }
    }

    /** Replaces one piece of the manifest and gives it a valid check, as a hostile writer could. */
    private static void rewrite(Path m, String text, String from, String to) throws IOException {
        assertTrue(text.contains(from), from);
        String changed = text.replace(from, to);
        String body = changed.substring(0, changed.lastIndexOf(",\"check\":")) + "}";
        Files.writeString(m, SnapshotFormat.withCheck(body));
    }

    private static String refusal(Path dir) {
        SnapshotException e = assertThrows(SnapshotException.class, () -> Snapshot.open(dir));
        assertEquals(JvmmException.Kind.USAGE, e.errorKind());
        return e.getMessage();
    }
}
