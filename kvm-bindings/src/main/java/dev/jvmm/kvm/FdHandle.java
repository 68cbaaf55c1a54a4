package dev.jvmm.kvm;

import dev.jvmm.kvm.sys.Libc;
import java.util.concurrent.atomic.AtomicBoolean;

/** A file descriptor owned by one handle: closed exactly once, and unusable after that. */
abstract class FdHandle implements AutoCloseable {
    protected final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    FdHandle(int fd) {
        this.fd = fd;
    }

    /** The raw fd, for ioctls this layer does not wrap yet and for tests. */
    public int fd() {
        if (closed.get())
            throw new IllegalStateException(getClass().getSimpleName() + " is closed");
        return fd;
    }

    protected final int ioctl(long request, long arg, String op) {
        return Libc.ioctl(fd(), request, arg, op);
    }

    protected final int ioctl(long request, java.lang.foreign.MemorySegment arg, String op) {
        return Libc.ioctl(fd(), request, arg, op);
    }

    protected void releaseResources() {}

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            releaseResources();
            Libc.close(fd);
        }
    }
}
