package dev.jvmm.core.boot;

import java.nio.file.Path;

/**
 * An initrd checked to exist and be readable, with its size; its bytes are streamed straight into
 * guest memory at load time instead of being held on the heap.
 */
public record InitrdFile(Path path, long size) {

    public static InitrdFile open(Path path) throws BootImageException {
        return new InitrdFile(path, BootFiles.size("initrd", path));
    }

    String subject() { return BootFiles.subject("initrd", path); }
}
