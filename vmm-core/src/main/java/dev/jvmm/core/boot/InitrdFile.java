package dev.jvmm.core.boot;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * An initrd checked to be a readable regular file, with its size, opened once at start and held
 * open ({@link HeldFile}): every load, also an in-place reboot's, reads it again through that
 * descriptor straight into guest memory, so jvmm keeps none of its bytes.
 */
public final class InitrdFile {
    private final Path path;
    private final long size;
    private final HeldFile file; // null only in a plan-only instance (sizes, no load)

    /** Sizes for planning only; {@link KernelLoader#load} refuses it. */
    public InitrdFile(Path path, long size) {
        this(path, size, null);
    }

    private InitrdFile(Path path, long size, HeldFile file) {
        this.path = path;
        this.size = size;
        this.file = file;
    }

    /** Opens the file, refusing one larger than {@code maxSize} (normally the RAM size). */
    public static InitrdFile read(Path path, long maxSize) throws BootImageException {
        HeldFile f =
                HeldFile.open("initrd", path, maxSize, BootImageException.Kind.INITRD_TOO_LARGE);
        return new InitrdFile(path, f.size(), f);
    }

    public Path path() {
        return path;
    }

    public long size() {
        return size;
    }

    /** Whether this instance can be loaded (false for a plan-only one). */
    public boolean loadable() {
        return file != null;
    }

    /** Copies the whole initrd into {@code dst} (exactly {@link #size()} bytes). */
    void copyTo(MemorySegment dst) throws BootImageException {
        if (file == null)
            throw new IllegalStateException(subject() + " was sized for planning, not read");
        file.read(dst);
    }

    String subject() {
        return BootFiles.subject("initrd", path);
    }
}
