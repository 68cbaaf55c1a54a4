package dev.jvmm.core.boot;

import dev.jvmm.core.boot.BootImageException.Kind;
import dev.jvmm.kvm.sys.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;

/**
 * A kernel or initrd opened once, at start, and held open for the VM's life, so its bytes need not
 * be kept in jvmm's memory: every load (the first boot and each in-place reboot) reads them again
 * through this descriptor. A path removed or renamed over meanwhile changes nothing (the descriptor
 * keeps the file that was opened); a file rewritten in place is noticed (its size or modification
 * time differ) and the load refused with one line, never booted half-changed.
 *
 * <p>The descriptor is reached through {@code /proc/self/fd/N}, which names the opened file
 * whatever its path names now, so reads and checks use plain NIO. It is closed when the object
 * becomes unreachable.
 */
final class HeldFile {
    private final String who;
    private final Path self;
    private final long size;
    private final FileTime modified;
    private final Arena lifetime; // closes the descriptor once this object is unreachable

    private HeldFile(String who, Path self, long size, FileTime modified, Arena lifetime) {
        this.who = who;
        this.self = self;
        this.size = size;
        this.modified = modified;
        this.lifetime = lifetime;
    }

    /**
     * Opens {@code file} after the path checks of {@link BootFiles}, then checks what was opened: a
     * regular file no larger than {@code maxSize}.
     */
    static HeldFile open(String role, Path file, long maxSize, Kind tooLarge)
            throws BootImageException {
        BootFiles.size(role, file); // missing vs unreadable vs not a regular file, with the reason
        String who = BootFiles.subject(role, file);
        // O_NONBLOCK: a FIFO put in the file's place since the check must not block the open
        int fd = Libc.openRaw(file.toString(), Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0) {
            throw new BootImageException(Kind.UNREADABLE, who, "cannot open (errno " + -fd + ")");
        }
        Arena lifetime = Arena.ofAuto();
        MemorySegment.NULL.reinterpret(lifetime, s -> closeQuietly(fd));
        Path self = Path.of("/proc/self/fd/" + fd);
        Map<String, Object> a = attributes(who, self);
        if (!Boolean.TRUE.equals(a.get("isRegularFile"))) {
            throw new BootImageException(
                    Kind.UNREADABLE, who, "is not a regular file (it changed while being opened)");
        }
        long size = (Long) a.get("size");
        BootFiles.checkSize(who, size, maxSize, tooLarge);
        return new HeldFile(who, self, size, (FileTime) a.get("lastModifiedTime"), lifetime);
    }

    long size() {
        return size;
    }

    /** Reads the first {@code dst.byteSize()} bytes (at most {@link #size()}) into {@code dst}. */
    void read(MemorySegment dst) throws BootImageException {
        if (dst.byteSize() > size) throw new IllegalArgumentException("read beyond the file");
        try {
            checkUnchanged();
            BootFiles.read(who, self, dst);
            checkUnchanged(); // a rewrite during the read is not booted either
        } finally {
            Reference.reachabilityFence(lifetime); // the descriptor stays open while it is read
        }
    }

    /** Reads the whole file into a new heap array (for files parsed as a whole, e.g. gzip). */
    byte[] readAll() throws BootImageException {
        byte[] b = new byte[Math.toIntExact(size)];
        read(MemorySegment.ofArray(b));
        return b;
    }

    private void checkUnchanged() throws BootImageException {
        Map<String, Object> a = attributes(who, self);
        // not the change time: removing or renaming over the path changes the inode's link count,
        // hence its ctime, and that is no change to its bytes
        if (!a.get("size").equals(size) || !modified.equals(a.get("lastModifiedTime"))) {
            throw new BootImageException(
                    Kind.CHANGED,
                    who,
                    "was rewritten in place after jvmm started (its size or modification time"
                            + " changed); restart"
                            + " the VM to boot the new file (a file replaced or removed instead"
                            + " is no problem)");
        }
    }

    private static Map<String, Object> attributes(String who, Path self) throws BootImageException {
        try {
            return Files.readAttributes(self, "unix:size,lastModifiedTime,isRegularFile");
        } catch (IOException e) {
            throw BootFiles.unreadable(who, e);
        }
    }

    private static void closeQuietly(int fd) {
        try {
            Libc.close(fd);
        } catch (RuntimeException e) {
            // nothing to do about a failed close of a read-only descriptor
        }
    }
}
