package dev.jvmm.core.api;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The listening socket file at the user's path: mode 0600 from the moment anyone can reach it,
 * never replacing a live socket, removed again by {@link #close()} (and only if it is still ours).
 *
 * <p>Why the detour through a private directory: bind(2) creates the socket file with mode {@code
 * 0777 & ~umask}, and Java can neither set the umask nor pass a mode to bind, so a plain bind
 * followed by chmod leaves a window in which another local user could connect. Instead the socket
 * is bound inside a fresh 0700 directory created next to the target (mkdir with that mode, so there
 * is no window for the directory either; nobody else can search it, so the socket's initial mode
 * does not matter), chmod'ed to 0600 there, and only then published at the requested path with
 * link(2). link fails if the path exists, so a socket another jvmm published between our liveness
 * check and now is never replaced. The private name and directory are removed straight after.
 * Binding next to the target keeps link(2) on one filesystem; where a filesystem has no hard links,
 * rename(2) (which also keeps the mode) is the fallback.
 */
final class ApiSocket implements AutoCloseable {
    /** sun_path holds 108 bytes including the terminating NUL. */
    static final int MAX_PATH_BYTES = 107;

    private static final int BACKLOG = 16;
    private static final Set<PosixFilePermission> OWNER_ONLY =
            PosixFilePermissions.fromString("rw-------");
    private static final FileAttribute<Set<PosixFilePermission>> PRIVATE_DIR =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    private static final int S_IFMT = 0170000, S_IFSOCK = 0140000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path path;
    private final ServerSocketChannel channel;

    /**
     * (st_dev, st_ino) of our socket: a file someone else put at the path later is not ours to
     * delete.
     */
    private final Object fileKey;

    private final AtomicBoolean removed = new AtomicBoolean();

    private ApiSocket(Path path, ServerSocketChannel channel, Object fileKey) {
        this.path = path;
        this.channel = channel;
        this.fileKey = fileKey;
    }

    Path path() {
        return path;
    }

    ServerSocketChannel channel() {
        return channel;
    }

    /** Creates the socket at {@code requested}; a leftover socket nobody listens on is replaced. */
    static ApiSocket create(Path requested) throws ApiException {
        String shown = requested.toString();
        Path path = requested.toAbsolutePath().normalize();
        Path dir = path.getParent();
        if (dir == null || path.getFileName() == null)
            throw new ApiException(shown + ": not a file path");
        if (!Files.isDirectory(dir))
            throw new ApiException(shown + ": directory " + dir + " does not exist");
        checkLength(shown, path);
        removeIfStale(shown, path);
        Path privateDir = privateDirectory(shown, dir);
        Path bound = privateDir.resolve("s");
        ServerSocketChannel ch = null;
        try {
            checkLength(shown + " (bound first as " + bound + ")", bound);
            ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            ch.bind(UnixDomainSocketAddress.of(bound), BACKLOG);
            Files.setPosixFilePermissions(bound, OWNER_ONLY);
            publish(shown, bound, path);
            Object key =
                    Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                            .fileKey();
            return new ApiSocket(path, ch, key);
        } catch (IOException | ApiException | RuntimeException e) {
            closeQuietly(ch);
            if (e instanceof ApiException a) throw a;
            throw new ApiException(shown + ": cannot create the socket: " + reason(e), e);
        } finally {
            deleteQuietly(bound);
            deleteQuietly(privateDir);
        }
    }

    private static void checkLength(String shown, Path p) throws ApiException {
        int n = p.toString().getBytes(StandardCharsets.UTF_8).length;
        if (n > MAX_PATH_BYTES) {
            throw new ApiException(
                    shown
                            + ": path too long for a Unix socket ("
                            + n
                            + " bytes, at most "
                            + MAX_PATH_BYTES
                            + "); use a shorter directory");
        }
    }

    /**
     * A leftover of a jvmm that died is replaced; a live socket or any other file is left alone.
     */
    @SuppressWarnings(
            "try") // the probe connection is opened only to learn whether anything listens
    private static void removeIfStale(String shown, Path path) throws ApiException {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw new ApiException(shown + ": cannot inspect the existing file: " + reason(e), e);
        }
        if ((mode & S_IFMT) != S_IFSOCK)
            throw new ApiException(shown + ": exists and is not a socket; not replacing it");
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw new ApiException(
                    shown
                            + ": another process is serving this socket (another jvmm?); not replacing it");
        } catch (ConnectException e) {
            // ECONNREFUSED: nothing listens on it
        } catch (IOException e) {
            throw new ApiException(shown + ": cannot check the existing socket: " + reason(e), e);
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new ApiException(shown + ": cannot remove the stale socket: " + reason(e), e);
        }
    }

    private static Path privateDirectory(String shown, Path dir) throws ApiException {
        for (int attempt = 0; ; attempt++) {
            byte[] r = new byte[4];
            RANDOM.nextBytes(r);
            Path p = dir.resolve(".jvmm" + HexFormat.of().formatHex(r));
            try {
                return Files.createDirectory(p, PRIVATE_DIR);
            } catch (FileAlreadyExistsException e) {
                if (attempt == 9)
                    throw new ApiException(
                            shown + ": cannot create a private directory in " + dir, e);
            } catch (IOException e) {
                throw new ApiException(
                        shown + ": cannot create a socket in " + dir + ": " + reason(e), e);
            }
        }
    }

    private static void publish(String shown, Path bound, Path path)
            throws IOException, ApiException {
        try {
            Files.createLink(path, bound);
        } catch (FileAlreadyExistsException e) {
            throw new ApiException(
                    shown
                            + ": created by another process while jvmm was starting; not replacing it");
        } catch (UnsupportedOperationException | AccessDeniedException e) {
            throw new ApiException(shown + ": cannot create the socket: " + reason(e), e);
        } catch (FileSystemException e) {
            // EPERM: the filesystem has no hard links; rename keeps the 0600 inode and refuses an
            // existing path
            try {
                Files.move(bound, path);
            } catch (FileAlreadyExistsException again) {
                throw new ApiException(
                        shown
                                + ": created by another process while jvmm was starting; not replacing it");
            }
        }
    }

    /**
     * Removes the socket file if it is still the one this object created; safe to call more than
     * once.
     */
    void removeFile() {
        if (!removed.compareAndSet(false, true)) return;
        try {
            Object key =
                    Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                            .fileKey();
            if (fileKey != null && fileKey.equals(key)) Files.delete(path);
        } catch (IOException ignored) {
            // already gone, or the directory went away: nothing left to clean
        }
    }

    @Override
    public void close() {
        removeFile();
        closeQuietly(channel);
    }

    /** The errno text of a failed file or socket call, for one-line messages. */
    static String reason(Exception e) {
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason();
        if (e instanceof AccessDeniedException) return "Permission denied";
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover private directory is harmless (0700, empty) and named .jvmm*
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception ignored) {
            // closing a listener cannot fail in a way that matters here
        }
    }
}
