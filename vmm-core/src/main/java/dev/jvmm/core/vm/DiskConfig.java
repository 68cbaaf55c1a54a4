package dev.jvmm.core.vm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A virtio-blk disk backed by a host file, checked when created so a bad one is a usage error before
 * any KVM fd exists: the file exists, is a regular file, is readable, and is writable unless
 * {@code readOnly}. Messages name the file.
 */
public record DiskConfig(Path path, boolean readOnly) {
    public DiskConfig {
        Objects.requireNonNull(path, "path");
        if (!Files.exists(path)) throw new IllegalArgumentException("disk " + path + ": no such file");
        if (Files.isDirectory(path)) throw new IllegalArgumentException("disk " + path + ": is a directory, not a disk image");
        if (!Files.isRegularFile(path)) throw new IllegalArgumentException("disk " + path + ": not a regular file (block devices are not supported)");
        if (!Files.isReadable(path)) throw new IllegalArgumentException("disk " + path + ": not readable (permission denied)");
        if (!readOnly && !Files.isWritable(path)) {
            throw new IllegalArgumentException("disk " + path + ": not writable; attach it read-only with ro=on");
        }
    }

    @Override
    public String toString() { return "disk " + path + (readOnly ? " (read-only)" : ""); }
}
