package dev.jvmm.core.virtio.blk;

import dev.jvmm.core.files.HostFiles;
import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.sys.Libc;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A raw image file through a {@link FileChannel}: a request's guest buffers go in one {@code
 * readv}/{@code writev} after a seek (a single buffer in one {@code pread}/{@code pwrite}), {@code
 * force(false)} (fdatasync) on flush. A read-only backend opens the file without write access, so
 * not even a device bug could change it.
 */
public final class FileBlockBackend implements BlockBackend {
    private final Path path;
    private final FileChannel channel;

    /**
     * Holds the image's lock: an open file description of its own, closed only by {@link #close}.
     */
    private final int lockFd;

    private final boolean readOnly;
    private final long size;

    /** Held from a seek to the end of the scattering/gathering transfer that follows it. */
    private final Object seekLock = new Object();

    private volatile boolean closed;

    private FileBlockBackend(
            Path path, FileChannel channel, int lockFd, boolean readOnly, long size) {
        this.path = path;
        this.channel = channel;
        this.lockFd = lockFd;
        this.readOnly = readOnly;
        this.size = size;
    }

    /**
     * Opens an existing image; its size is fixed from now on. The file is locked (shared when
     * read-only, exclusive otherwise, like QEMU's image locking) so two VMs, or two disks of one
     * VM, cannot write the same image at once. The lock is an open-file-description lock
     * (F_OFD_SETLK, as QEMU's): Java's FileLock is a POSIX record lock, which the kernel drops as
     * soon as this process closes any descriptor of the file, e.g. one that merely read it.
     *
     * @throws IOException naming the path when it cannot be opened or is in use
     */
    public static FileBlockBackend open(Path path, boolean readOnly) throws IOException {
        int fd =
                Libc.openRaw(
                        path.toString(),
                        (readOnly ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC,
                        0);
        if (fd < 0) throw new IOException(path + ": cannot open: " + Errno.name(-fd));
        try {
            int r = Libc.ofdLockRaw(fd, readOnly ? Libc.F_RDLCK : Libc.F_WRLCK);
            if (r == -Errno.EAGAIN || r == -Errno.EACCES) {
                throw new IOException(path + ": disk image is in use by another disk or process");
            }
            if (r < 0) throw new IOException(path + ": cannot lock: " + Errno.name(-r));
            FileChannel ch;
            try {
                ch =
                        readOnly
                                ? FileChannel.open(path, StandardOpenOption.READ)
                                : FileChannel.open(
                                        path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new IOException(path + ": " + HostFiles.reason(e), e);
            }
            try {
                return new FileBlockBackend(path, ch, fd, readOnly, ch.size());
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public void read(long offset, ByteBuffer... dsts) throws IOException {
        if (dsts.length == 1) {
            readAt(offset, dsts[0]);
            return;
        }
        // FileChannel has no positional readv: seek, then one readv (IOV_MAX buffers at a time)
        synchronized (seekLock) {
            channel.position(offset);
            for (int i = next(dsts, 0); i < dsts.length; i = next(dsts, i)) {
                if (channel.read(dsts, i, dsts.length - i) < 0) {
                    throw new EOFException(path + ": read past the end at " + channel.position());
                }
            }
        }
    }

    @Override
    public void write(long offset, ByteBuffer... srcs) throws IOException {
        if (readOnly) throw new IOException(path + " is read-only");
        if (srcs.length == 1) {
            writeAt(offset, srcs[0]);
            return;
        }
        // FileChannel has no positional writev: seek, then one writev (IOV_MAX buffers at a time)
        synchronized (seekLock) {
            channel.position(offset);
            for (int i = next(srcs, 0); i < srcs.length; i = next(srcs, i)) {
                channel.write(srcs, i, srcs.length - i);
            }
        }
    }

    /** The first buffer from {@code i} on with bytes remaining, or {@code bufs.length}. */
    private static int next(ByteBuffer[] bufs, int i) {
        while (i < bufs.length && !bufs[i].hasRemaining()) i++;
        return i;
    }

    private void readAt(long offset, ByteBuffer dst) throws IOException {
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) throw new EOFException(path + ": read past the end at " + pos);
            pos += n;
        }
    }

    private void writeAt(long offset, ByteBuffer src) throws IOException {
        long pos = offset;
        while (src.hasRemaining()) pos += channel.write(src, pos);
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) channel.force(false);
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) return;
        closed = true;
        try {
            flush();
        } finally {
            try {
                channel.close();
            } finally {
                Libc.close(
                        lockFd); // the data is flushed and the channel closed: only now may another
                // VM take it
            }
        }
    }

    @Override
    public String toString() {
        return path + (readOnly ? " (ro)" : "");
    }
}
