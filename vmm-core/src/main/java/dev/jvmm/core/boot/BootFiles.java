package dev.jvmm.core.boot;

import dev.jvmm.core.boot.BootImageException.Kind;
import dev.jvmm.core.files.HostFiles;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * File checks shared by the kernel and initrd: every failure becomes a one-line {@link
 * BootImageException}. Both must be regular files (a device such as /dev/zero would be read
 * forever, a FIFO would block before any timeout runs). Both are opened once, at start, and held
 * open ({@link HeldFile}): each load reads them again through that descriptor instead of keeping
 * their bytes in jvmm's memory.
 */
final class BootFiles {
    private static final long CHUNK = 1L << 30;

    private BootFiles() {}

    static String subject(String role, Path file) {
        return role + " " + file;
    }

    /**
     * Size of a regular, readable file; distinguishes missing from unreadable so the hint is right.
     */
    static long size(String role, Path file) throws BootImageException {
        String who = subject(role, file);
        var problem = HostFiles.inputProblem(file, false);
        if (problem.isPresent()) {
            throw new BootImageException(
                    problem.get().missing() ? Kind.MISSING : Kind.UNREADABLE,
                    who,
                    problem.get().missing() ? "no such file" : problem.get().reason());
        }
        try {
            return java.nio.file.Files.size(file);
        } catch (IOException e) {
            throw unreadable(who, e);
        }
    }

    /** Refuses a file larger than {@code maxSize}, or than one Java array can hold. */
    static void checkSize(String who, long size, long maxSize, Kind tooLarge)
            throws BootImageException {
        if (size > maxSize) {
            throw new BootImageException(
                    tooLarge,
                    who,
                    String.format(
                            "is %s, larger than the %s available",
                            BootMath.human(size), BootMath.human(maxSize)));
        }
        if (size > Integer.MAX_VALUE - 16) {
            throw new BootImageException(
                    tooLarge, who, "is " + BootMath.human(size) + ", over the 2 GiB limit");
        }
    }

    /**
     * Fills {@code dst} from the file's start: exactly its size as checked, so a growing file
     * cannot overrun.
     */
    static void read(String who, Path file, MemorySegment dst) throws BootImageException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (long done = 0; done < dst.byteSize(); ) {
                ByteBuffer buf =
                        dst.asSlice(done, Math.min(dst.byteSize() - done, CHUNK)).asByteBuffer();
                while (buf.hasRemaining()) {
                    if (ch.read(buf) < 0) {
                        throw new BootImageException(
                                Kind.TRUNCATED,
                                who,
                                String.format(
                                        "shrank while being read: expected %d bytes, got %d",
                                        dst.byteSize(), done + buf.position()));
                    }
                }
                done += buf.capacity();
            }
        } catch (IOException e) {
            throw unreadable(who, e);
        }
    }

    static BootImageException unreadable(String who, IOException e) {
        if (e instanceof NoSuchFileException)
            return new BootImageException(Kind.MISSING, who, "no such file", e);
        return new BootImageException(
                Kind.UNREADABLE, who, "cannot read: " + HostFiles.reason(e), e);
    }
}
