package dev.jvmm.core.snapshot;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.jvmm.core.JvmmException.Kind;
import dev.jvmm.core.files.HostFiles;
import dev.jvmm.kvm.sys.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32C;

/**
 * A snapshot directory read back and checked ({@link SnapshotFormat}). A snapshot is input and may
 * be damaged or hostile: every problem is one line naming the file and what is wrong (exit 2), and
 * nothing is built before the manifest passed its check.
 */
public final class Snapshot {
    private final Path dir;
    private final SnapshotManifest manifest;

    /**
     * The memory file's CRC32C as {@link #checkMemoryAhead} computes it (null in the future: the
     * file could not be mapped), or null: {@link #mapMemory} computes its own.
     */
    private volatile CompletableFuture<MemoryCrc> memoryCrc;

    /** A CRC32C over the memory file's runs and what it took. */
    private record MemoryCrc(long value, long nanos) {}

    private Snapshot(Path dir, SnapshotManifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
    }

    public Path dir() {
        return dir;
    }

    public SnapshotManifest manifest() {
        return manifest;
    }

    /**
     * Initialises the manifest's JSON parser by parsing an empty object, so that the first real
     * parse finds it ready. {@link java.math.BigDecimal} comes first: jackson's parser base class
     * initialises it, and it costs more than all the rest (see {@link SnapshotAhead}); this way it
     * starts with the thread, not once the JSON classes are loaded and the manifest is read.
     */
    static void warmParser() {
        try {
            java.math.BigDecimal.ZERO.signum();
            JSON.std.mapFrom("{}");
        } catch (IOException | RuntimeException e) {
            // nothing to warm: the manifest's own parse reports what is wrong
        }
    }

    /**
     * Reads and checks {@code dir}'s manifest: present, complete (content check), this format and
     * version, every field fitting its record, the memory file present with the size the manifest
     * says.
     */
    public static Snapshot open(Path dir) {
        if (!Files.isDirectory(dir))
            throw bad(dir, Files.exists(dir) ? "not a directory" : "no such directory");
        Path file = dir.resolve(SnapshotFormat.MANIFEST);
        byte[] bytes = readManifest(dir, file);
        String text = utf8(file, bytes);
        // the content check on the bytes as read; then one parse, bound straight into the records
        String problem = SnapshotFormat.checkProblem(bytes);
        if (problem != null) throw bad(file, problem);
        Map<String, Object> tree;
        try {
            tree = JSON.std.mapFrom(text);
        } catch (IOException e) {
            throw bad(file, "not JSON: " + firstLine(e.getMessage()));
        }
        if (!SnapshotFormat.NAME.equals(tree.get("format")))
            throw bad(file, "not a jvmm snapshot (format " + quote(tree.get("format")) + ")");
        if (!Integer.valueOf(SnapshotFormat.VERSION).equals(tree.get("version"))) {
            throw bad(
                    file,
                    "format version "
                            + quote(tree.get("version"))
                            + "; this jvmm reads version "
                            + SnapshotFormat.VERSION);
        }
        tree.remove("check");
        SnapshotManifest m = StateJson.fromTree(tree, SnapshotManifest.class, file.toString());
        validate(file, m);
        Path memory = dir.resolve(m.memory().file());
        try {
            long size = Files.size(memory);
            if (size != m.memory().bytes()) {
                throw bad(
                        memory,
                        size + " bytes, the manifest says " + m.memory().bytes() + " (damaged)");
            }
        } catch (NoSuchFileException e) {
            throw bad(memory, "missing");
        } catch (IOException e) {
            throw bad(memory, "cannot read: " + HostFiles.reason(e));
        }
        return new Snapshot(dir, m);
    }

    private static byte[] readManifest(Path dir, Path file) {
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                if (Files.exists(dir.resolve(SnapshotFormat.MEMORY))
                        || Files.exists(dir.resolve(SnapshotFormat.MANIFEST + ".tmp"))) {
                    throw bad(
                            dir,
                            "incomplete snapshot: its writing did not finish (no "
                                    + SnapshotFormat.MANIFEST
                                    + ")");
                }
                throw bad(dir, "not a snapshot (no " + SnapshotFormat.MANIFEST + ")");
            }
            if (Files.size(file) > SnapshotFormat.MAX_MANIFEST_BYTES)
                throw bad(
                        file, "larger than " + (SnapshotFormat.MAX_MANIFEST_BYTES >> 20) + " MiB");
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw bad(file, "cannot read: " + HostFiles.reason(e));
        }
    }

    private static String utf8(Path file, byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw bad(file, "not UTF-8 text (damaged)");
        }
    }

    /** What the record types cannot say: sizes, ranges and names that must fit together. */
    private static void validate(Path file, SnapshotManifest m) {
        GuestDefinition g = m.guest();
        MemoryImage mem = m.memory();
        if (g == null || m.host() == null || mem == null || m.parts() == null)
            throw bad(file, "guest, host, memory and parts are required");
        if (!SnapshotFormat.MEMORY.equals(mem.file()))
            throw bad(
                    file, "memory file " + quote(mem.file()) + " is not " + SnapshotFormat.MEMORY);
        if (mem.pageSize() != SnapshotFormat.PAGE_SIZE)
            throw bad(file, "page size " + mem.pageSize() + " is not " + SnapshotFormat.PAGE_SIZE);
        if (mem.bytes() != g.memoryBytes() || mem.bytes() <= 0 || mem.bytes() % mem.pageSize() != 0)
            throw bad(
                    file,
                    "memory size " + mem.bytes() + " does not fit the guest's " + g.memoryBytes());
        List<Long> runs = mem.runs();
        if (runs.size() % 2 != 0) throw bad(file, "memory runs are not (page, count) pairs");
        long pages = mem.bytes() / mem.pageSize(), next = 0;
        for (int i = 0; i < runs.size(); i += 2) {
            Long first = runs.get(i), count = runs.get(i + 1);
            if (first == null
                    || count == null
                    || first < next
                    || count < 1
                    || count > pages - first) {
                throw bad(file, "memory run " + i / 2 + " is out of order or outside RAM");
            }
            next = first + count;
        }
        Set<String> keys = new HashSet<>();
        for (PartState p : m.parts()) {
            if (p == null || p.key() == null || p.state() == null)
                throw bad(file, "a part without key or state");
            if (!keys.add(p.key())) throw bad(file, "part " + quote(p.key()) + " appears twice");
        }
    }

    /**
     * What {@link #loadMemory} or {@link #mapMemory} did: how many runs, whether they were mapped
     * (else read), and the time their CRC32C took.
     */
    public record MemoryLoad(int runs, boolean mapped, long crcNanos, boolean crcAhead) {}

    /**
     * Publishes this snapshot through {@code publish}, then computes its memory file's CRC32C over
     * the runs on this thread, from a read-only mapping of the file, for {@link #mapMemory} to
     * compare instead of computing its own ({@link SnapshotAhead}: the check runs while the command
     * line is parsed and the machine built). The bytes are the file's, as through the guest's
     * private mapping of it.
     */
    void checkMemoryAhead(CompletableFuture<Snapshot> publish) {
        CompletableFuture<MemoryCrc> crc = new CompletableFuture<>();
        memoryCrc = crc;
        publish.complete(this);
        MemoryCrc result = null;
        try {
            result = fileCrc();
        } catch (Throwable t) { // e.g. OutOfMemoryError: mapMemory computes its own and reports
        } finally {
            crc.complete(result); // always: mapMemory waits for it
        }
    }

    /** The CRC32C of the memory file's runs, or null where it cannot be mapped and read. */
    private MemoryCrc fileCrc() {
        long t0 = System.nanoTime();
        MemoryImage mem = manifest.memory();
        try (FileChannel ch = FileChannel.open(dir.resolve(mem.file()), StandardOpenOption.READ);
                Arena arena = Arena.ofConfined()) {
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, mem.bytes(), arena);
            CRC32C crc = new CRC32C();
            List<Long> runs = mem.runs();
            for (int i = 0; i < runs.size(); i += 2) {
                long at = runs.get(i) * mem.pageSize();
                crc.update(file.asSlice(at, runs.get(i + 1) * mem.pageSize()).asByteBuffer());
            }
            return new MemoryCrc(crc.getValue(), System.nanoTime() - t0);
        } catch (IOException | RuntimeException | InternalError e) {
            // InternalError: the file shrank under the mapping; mapMemory's own check reports it
            return null;
        }
    }

    /**
     * Fills guest RAM, freshly mapped (all zero), from the memory file: only the runs are read,
     * each straight into its place, and their CRC32C checked. (Reading runs close together with one
     * read, 176 runs in 20 reads, made no measurable difference in the lab: bench/README.md.)
     */
    public MemoryLoad loadMemory(MemorySegment ram) {
        Path file = memoryFile(ram);
        MemoryImage mem = manifest.memory();
        CRC32C crc = new CRC32C();
        long crcNanos = 0;
        List<Long> runs = mem.runs();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (int i = 0; i < runs.size(); i += 2) {
                long at = runs.get(i) * mem.pageSize();
                ByteBuffer b = ram.asSlice(at, runs.get(i + 1) * mem.pageSize()).asByteBuffer();
                long pos = at;
                while (b.hasRemaining()) {
                    int n = ch.read(b, pos);
                    if (n < 0) throw bad(file, "shorter than its runs (damaged)");
                    pos += n;
                }
                long c0 = System.nanoTime();
                crc.update(b.flip());
                crcNanos += System.nanoTime() - c0;
            }
        } catch (IOException e) {
            throw bad(file, "cannot read: " + HostFiles.reason(e));
        }
        checkCrc(file, crc.getValue());
        return new MemoryLoad(runs.size() / 2, false, crcNanos, false);
    }

    /**
     * Maps the memory file's runs over guest RAM, private and copy-on-write (MAP_PRIVATE |
     * MAP_FIXED at the runs' offsets), then checks their CRC32C through the mapping: no byte is
     * copied and no RAM is zeroed first, the guest's first write to a page copies that page alone,
     * and the holes between the runs stay the anonymous memory they were (zero, never read from the
     * file). {@code ram} must be a page-aligned native mapping that nothing has written yet. The
     * file must not change while the guest runs: its pages are the guest's until written (jvmm
     * never writes into a snapshot directory). Where the file cannot be mapped (a filesystem
     * without mmap), the runs are read instead ({@link #loadMemory}).
     */
    public MemoryLoad mapMemory(MemorySegment ram) {
        Path file = memoryFile(ram);
        MemoryImage mem = manifest.memory();
        List<Long> runs = mem.runs();
        int fd = Libc.openRaw(file.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0) return loadMemory(ram); // it names what is wrong with the file
        try {
            for (int i = 0; i < runs.size(); i += 2) {
                long at = runs.get(i) * mem.pageSize();
                MemorySegment run = ram.asSlice(at, runs.get(i + 1) * mem.pageSize());
                int r =
                        Libc.mmapOverRaw(
                                run, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE, fd, at);
                // the runs mapped so far hold the file's bytes: reading over them is the same
                if (r < 0) return loadMemory(ram);
            }
        } finally {
            Libc.close(fd);
        }
        MemoryCrc ahead = memoryCrc == null ? null : memoryCrc.join();
        if (ahead != null) {
            checkCrc(file, ahead.value());
            return new MemoryLoad(runs.size() / 2, true, ahead.nanos(), true);
        }
        CRC32C crc = new CRC32C();
        long c0 = System.nanoTime();
        for (int i = 0; i < runs.size(); i += 2) {
            long at = runs.get(i) * mem.pageSize();
            crc.update(ram.asSlice(at, runs.get(i + 1) * mem.pageSize()).asByteBuffer());
        }
        long crcNanos = System.nanoTime() - c0;
        checkCrc(file, crc.getValue());
        return new MemoryLoad(runs.size() / 2, true, crcNanos, false);
    }

    private Path memoryFile(MemorySegment ram) {
        if (ram.byteSize() != manifest.memory().bytes())
            throw new IllegalArgumentException("guest RAM is not the snapshot's size");
        return dir.resolve(manifest.memory().file());
    }

    private void checkCrc(Path file, long crc) {
        if (!SnapshotFormat.hex(crc).equals(manifest.memory().crc32c()))
            throw bad(file, "content check failed (the file is damaged)");
    }

    /** The record the snapshot holds for {@code key}, read into the part's type. */
    public <S extends Record> S state(PartState p, Class<S> type) {
        return StateJson.fromTree(p.state(), type, p.key());
    }

    static SnapshotException bad(Path where, String what) {
        return new SnapshotException(Kind.USAGE, "snapshot " + where + ": " + what);
    }

    private static String quote(Object o) {
        if (o == null) return "missing";
        String s = String.valueOf(o);
        if (s.length() > 40) s = s.substring(0, 40) + "...";
        return o instanceof String ? "\"" + s + "\"" : s;
    }

    private static String firstLine(String s) {
        if (s == null) return "unreadable";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
