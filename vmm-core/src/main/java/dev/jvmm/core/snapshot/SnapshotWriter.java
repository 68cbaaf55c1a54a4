package dev.jvmm.core.snapshot;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.jvmm.core.JvmmException.Kind;
import dev.jvmm.core.files.HostFiles;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Writes one snapshot directory ({@link SnapshotFormat}). {@link #create} claims the directory: it
 * must not exist or be empty, so a reused path never overwrites an earlier snapshot. On any failure
 * the files written so far are removed again (and the directory, when this writer created it).
 */
public final class SnapshotWriter {
    private static final MemorySegment ZERO_PAGE =
            MemorySegment.ofArray(new byte[SnapshotFormat.PAGE_SIZE]);

    private final Path dir;
    private final boolean createdDir;

    private SnapshotWriter(Path dir, boolean createdDir) {
        this.dir = dir;
        this.createdDir = createdDir;
    }

    /**
     * Claims {@code dir} for a new snapshot.
     *
     * @throws SnapshotException (usage) when it exists and is not an empty directory, or its parent
     *     does not exist
     */
    public static SnapshotWriter create(Path dir) {
        String who = "snapshot " + dir + ": ";
        if (Files.isDirectory(dir)) {
            try (var s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw usage(
                            who
                                    + "the directory is not empty; a snapshot never overwrites"
                                    + " another (give a new or empty directory)");
                }
            } catch (IOException e) {
                throw usage(who + "cannot read the directory: " + HostFiles.reason(e));
            }
            return new SnapshotWriter(dir, false);
        }
        if (Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS))
            throw usage(who + "exists and is not a directory");
        try {
            Files.createDirectory(dir);
        } catch (NoSuchFileException e) {
            throw usage(who + "its parent directory does not exist");
        } catch (FileAlreadyExistsException e) {
            throw usage(who + "was created by someone else meanwhile");
        } catch (IOException e) {
            throw usage(who + "cannot create the directory: " + HostFiles.reason(e));
        }
        return new SnapshotWriter(dir, true);
    }

    public Path dir() {
        return dir;
    }

    /**
     * Writes guest RAM to {@link SnapshotFormat#MEMORY}: only pages that are not all zero, each run
     * at its own offset, and the file's length set to the RAM size so the rest are holes.
     */
    public MemoryImage writeMemory(MemorySegment ram) {
        int page = SnapshotFormat.PAGE_SIZE;
        if (ram.byteSize() % page != 0)
            throw new IllegalArgumentException("RAM is not a whole number of pages");
        long pages = ram.byteSize() / page;
        List<Long> runs = new ArrayList<>();
        CRC32C crc = new CRC32C();
        Path file = dir.resolve(SnapshotFormat.MEMORY);
        try (FileChannel ch =
                FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long p = 0;
            while (p < pages) {
                if (isZero(ram, p)) {
                    p++;
                    continue;
                }
                long first = p;
                while (p < pages && !isZero(ram, p)) p++;
                MemorySegment run = ram.asSlice(first * page, (p - first) * page);
                ByteBuffer b = run.asByteBuffer();
                crc.update(b.duplicate());
                long at = first * page;
                while (b.hasRemaining()) at += ch.write(b, at);
                runs.add(first);
                runs.add(p - first);
            }
            ch.truncate(ram.byteSize()); // no-op unless the last page was written
            if (ch.size() < ram.byteSize()) {
                ch.write(ByteBuffer.allocate(1), ram.byteSize() - 1); // a hole up to the end
            }
            ch.force(true);
        } catch (IOException e) {
            throw failed(file, e);
        }
        return new MemoryImage(
                SnapshotFormat.MEMORY,
                ram.byteSize(),
                page,
                runs,
                SnapshotFormat.hex(crc.getValue()));
    }

    private static boolean isZero(MemorySegment ram, long page) {
        int size = SnapshotFormat.PAGE_SIZE;
        return MemorySegment.mismatch(ram, page * size, (page + 1) * size, ZERO_PAGE, 0, size) < 0;
    }

    /**
     * Writes {@link SnapshotFormat#MANIFEST} last: under a temporary name, flushed, then renamed
     * into place.
     *
     * @return the manifest's size in bytes
     */
    public long writeManifest(SnapshotManifest manifest) {
        String text = SnapshotFormat.withCheck(StateJson.write(manifest));
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        Path tmp = dir.resolve(SnapshotFormat.MANIFEST + ".tmp");
        Path file = dir.resolve(SnapshotFormat.MANIFEST);
        try (FileChannel ch =
                FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        } catch (IOException e) {
            throw failed(tmp, e);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw failed(file, e);
        }
        syncDirectory();
        return bytes.length;
    }

    /** The rename is durable only once the directory is. */
    private void syncDirectory() {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some filesystems refuse fsync on a directory; the data files are already synced
        }
    }

    /** Removes what this writer wrote, after a failure: a half-written snapshot is never left. */
    public void abandon() {
        for (String name :
                List.of(
                        SnapshotFormat.MANIFEST,
                        SnapshotFormat.MANIFEST + ".tmp",
                        SnapshotFormat.MEMORY)) {
            try {
                Files.deleteIfExists(dir.resolve(name));
            } catch (IOException e) {
                // best effort: without the manifest the directory is not a snapshot anyway
            }
        }
        if (createdDir) {
            try {
                Files.deleteIfExists(dir);
            } catch (DirectoryNotEmptyException e) {
                // someone else put files there
            } catch (IOException e) {
                // best effort
            }
        }
    }

    /** A part's record as the JSON object the manifest holds. */
    public static PartState partState(String key, Record state) {
        try {
            Map<String, Object> m = JSON.std.mapFrom(StateJson.write(state));
            return new PartState(key, m);
        } catch (IOException e) {
            throw new SnapshotException(
                    Kind.HOST_ERROR, "snapshot: " + key + ": cannot encode its state", e);
        }
    }

    private static SnapshotException usage(String message) {
        return new SnapshotException(Kind.USAGE, message);
    }

    private static SnapshotException failed(Path file, IOException e) {
        return new SnapshotException(
                Kind.HOST_ERROR, "snapshot " + file + ": cannot write: " + HostFiles.reason(e), e);
    }
}
