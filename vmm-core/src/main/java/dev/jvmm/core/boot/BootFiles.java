package dev.jvmm.core.boot;

import dev.jvmm.core.boot.BootImageException.Kind;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** File checks shared by the kernel and initrd: every failure becomes a one-line {@link BootImageException}. */
final class BootFiles {
    private BootFiles() {}

    static String subject(String role, Path file) {
        return role + " " + file;
    }

    /** Size of a regular, readable file; distinguishes missing from unreadable so the hint is right. */
    static long size(String role, Path file) throws BootImageException {
        String who = subject(role, file);
        if (!Files.exists(file)) throw new BootImageException(Kind.MISSING, who, "no such file");
        if (Files.isDirectory(file)) throw new BootImageException(Kind.UNREADABLE, who, "is a directory, not a file");
        if (!Files.isReadable(file)) throw new BootImageException(Kind.UNREADABLE, who, "permission denied");
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw unreadable(who, e);
        }
    }

    /** Whole file, refusing anything larger than {@code maxSize} before allocating for it. */
    static byte[] readAll(String role, Path file, long maxSize, Kind tooLarge) throws BootImageException {
        long size = size(role, file);
        String who = subject(role, file);
        if (size > maxSize) {
            throw new BootImageException(tooLarge, who, String.format(
                    "is %s, larger than the %s available", BootMath.human(size), BootMath.human(maxSize)));
        }
        if (size > Integer.MAX_VALUE - 16) {
            throw new BootImageException(tooLarge, who, "is " + BootMath.human(size) + ", over the 2 GiB limit");
        }
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw unreadable(who, e);
        }
    }

    static BootImageException unreadable(String who, IOException e) {
        String why;
        if (e instanceof NoSuchFileException) {
            return new BootImageException(Kind.MISSING, who, "no such file", e);
        } else if (e instanceof AccessDeniedException) {
            why = "permission denied";
        } else {
            why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        }
        return new BootImageException(Kind.UNREADABLE, who, "cannot read: " + why, e);
    }
}
