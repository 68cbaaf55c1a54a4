package dev.jvmm.core.files;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Locale;
import java.util.Optional;

/**
 * The checks every file jvmm is given goes through, with the operating system's true reason in the
 * message ("permission denied" for a file in a directory we may not search, not "no such file").
 * Inputs (kernel, initrd, disk images) must be regular files: a device or FIFO would be read
 * forever or block before any timeout runs. Outputs (serial file, --dump-dtb) are checked without
 * being opened, so nothing is created or truncated before every input is known to be good.
 */
public final class HostFiles {
    private HostFiles() {}

    /** Why a file cannot serve; {@code missing} separates "not there" from every other reason. */
    public record Problem(boolean missing, String reason) {}

    /**
     * What stops {@code file} from being read (and written, if {@code write}) as a regular file, or
     * empty.
     */
    public static Optional<Problem> inputProblem(Path file, boolean write) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            return Optional.of(new Problem(e instanceof NoSuchFileException, reason(e)));
        }
        if (a.isDirectory()) return Optional.of(new Problem(false, "is a directory, not a file"));
        if (!a.isRegularFile())
            return Optional.of(new Problem(false, "not a regular file (" + typeOf(file) + ")"));
        try {
            if (write)
                file.getFileSystem()
                        .provider()
                        .checkAccess(file, AccessMode.READ, AccessMode.WRITE);
            else file.getFileSystem().provider().checkAccess(file, AccessMode.READ);
        } catch (IOException e) {
            return Optional.of(new Problem(false, reason(e)));
        }
        return Optional.empty();
    }

    /**
     * What stops jvmm from creating or overwriting {@code file} as an output, or empty; checked
     * with access(2) so the file is neither created nor truncated. A FIFO or device (e.g.
     * /dev/null) is a fine output; a directory is not.
     */
    public static Optional<String> outputProblem(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            if (a.isDirectory()) return Optional.of("is a directory");
            file.getFileSystem().provider().checkAccess(file, AccessMode.WRITE);
            return Optional.empty();
        } catch (NoSuchFileException e) {
            // not there yet: its directory must exist and let us create it
        } catch (IOException e) {
            return Optional.of(reason(e));
        }
        Path parent = file.toAbsolutePath().getParent();
        try {
            if (!Files.readAttributes(parent, BasicFileAttributes.class).isDirectory()) {
                return Optional.of("cannot create: " + parent + " is not a directory");
            }
            parent.getFileSystem()
                    .provider()
                    .checkAccess(parent, AccessMode.WRITE, AccessMode.EXECUTE);
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(
                    "cannot create: "
                            + reason(e)
                            + (e instanceof NoSuchFileException ? " (" + parent + ")" : ""));
        }
    }

    /**
     * The errno text of a failed file operation, lower case, without the path NIO puts in front.
     */
    public static String reason(IOException e) {
        if (e instanceof NoSuchFileException) return "no such file or directory";
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof NotDirectoryException) return "not a directory";
        String r = e instanceof FileSystemException f ? f.getReason() : e.getMessage();
        if (r == null || r.isBlank())
            return e.getClass().getSimpleName().replace("Exception", "").toLowerCase(Locale.ROOT);
        return r.substring(0, 1).toLowerCase(Locale.ROOT) + r.substring(1);
    }

    private static String typeOf(Path file) {
        try {
            Object mode = Files.getAttribute(file, "unix:mode");
            int type = ((Integer) mode) & 0170000;
            return switch (type) {
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0010000 -> "a FIFO";
                case 0140000 -> "a socket";
                default -> "type " + Integer.toOctalString(type);
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "a special file";
        }
    }
}
