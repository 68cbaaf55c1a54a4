package dev.jvmm.core.virtio.blk;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
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

    /** Opens an existing image; its size is fixed from now on. */
    public static FileBlockBackend open(Path path, boolean readOnly) throws IOException {
        FileChannel ch = readOnly
                ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            return new FileBlockBackend(path, ch, readOnly, ch.size());
        } catch (RuntimeException e) {
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
