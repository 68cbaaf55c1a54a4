package dev.jvmm.core.boot;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * An initrd checked to be a readable regular file, with its size and its bytes as read once at
 * start (off the Java heap): every load, also an in-place reboot's, copies these, so the file may
 * change or go away meanwhile.
 *
 * @param bytes null only in a plan-only instance (sizes, no load)
 */
public record InitrdFile(Path path, long size, MemorySegment bytes) {

    /** Sizes for planning only; {@link KernelLoader#load} refuses it. */
    public InitrdFile(Path path, long size) {
        this(path, size, null);
    }

    /**
     * Reads the whole file, refusing one larger than {@code maxSize} (normally the RAM size) before
     * reading it.
     */
    public static InitrdFile read(Path path, long maxSize) throws BootImageException {
        MemorySegment m =
                BootFiles.readOffHeap(
                        "initrd", path, maxSize, BootImageException.Kind.INITRD_TOO_LARGE);
        return new InitrdFile(path, m.byteSize(), m);
    }

    String subject() {
        return BootFiles.subject("initrd", path);
    }
}
