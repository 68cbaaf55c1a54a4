package dev.jvmm.core.virtio.blk;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A raw image file through a {@link FileChannel}: positional reads and writes, {@code force(false)}
 * (fdatasync) on flush. A read-only backend opens the file without write access, so not even a device
 * bug could change it.
 */
public final class FileBlockBackend implements BlockBackend {
    private final Path path;
    private final FileChannel channel;
    private final boolean readOnly;
    private final long size;
    private volatile boolean closed;

    private FileBlockBackend(Path path, FileChannel channel, boolean readOnly, long size) {
        this.path = path;
        this.channel = channel;
        this.readOnly = readOnly;
        this.size = size;
    }

    /**
     * Opens an existing image; its size is fixed from now on. The file is locked (shared when read-only,
     * exclusive otherwise, like QEMU's image locking) so two VMs, or two disks of one VM, cannot write the
     * same image at once.
     *
     * @throws IOException naming the path when it cannot be opened or is in use
     */
    public static FileBlockBackend open(Path path, boolean readOnly) throws IOException {
        FileChannel ch = readOnly
                ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            FileLock lock;
            try {
                lock = ch.tryLock(0, Long.MAX_VALUE, readOnly);
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) throw new IOException(path + ": disk image is in use by another disk or process");
            return new FileBlockBackend(path, ch, readOnly, ch.size());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public Path path() { return path; }

    @Override public long size() { return size; }

    @Override public boolean isReadOnly() { return readOnly; }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) throw new EOFException(path + ": read past the end at " + pos);
            pos += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        if (readOnly) throw new IOException(path + " is read-only");
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
            channel.close();
        }
    }

    @Override public String toString() { return path + (readOnly ? " (ro)" : ""); }
}
