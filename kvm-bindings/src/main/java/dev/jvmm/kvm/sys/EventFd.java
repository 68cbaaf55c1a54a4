package dev.jvmm.kvm.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.KvmException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An eventfd(2) handle, non-blocking and close-on-exec: the doorbell between KVM (ioeventfd, irqfd)
 * and the device threads, and the "stop" signal that wakes a thread waiting in poll(2). Any thread
 * may {@link #signal}; the one thread that polls it {@link #drain}s it.
 */
public final class EventFd implements AutoCloseable {
    /**
     * One 8-byte counter buffer per thread: signal() runs on device hot paths, so no allocation per
     * call.
     */
    private static final ThreadLocal<MemorySegment> COUNTER =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(JAVA_LONG));

    private final int fd;
    private final String name;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EventFd(int fd, String name) {
        this.fd = fd;
        this.name = name;
    }

    /** A new eventfd with counter 0; {@code name} appears in error messages. */
    public static EventFd create(String name) {
        return new EventFd(Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC), name);
    }

    public int fd() {
        if (closed.get()) throw new IllegalStateException("eventfd " + name + " is closed");
        return fd;
    }

    public String name() {
        return name;
    }

    /**
     * Adds 1 to the counter, waking any poller. A counter at its maximum (never in practice) is
     * already signalled.
     */
    public void signal() {
        MemorySegment one = COUNTER.get();
        one.set(JAVA_LONG, 0, 1L);
        long r = Libc.writeRaw(fd(), one);
        if (r < 0 && r != -Errno.EAGAIN)
            throw new KvmException("write(eventfd " + name + ")", (int) -r);
    }

    /** Reads and resets the counter: how many signals arrived since the last drain (0 if none). */
    public long drain() {
        MemorySegment buf = COUNTER.get();
        long r = Libc.readRaw(fd(), buf);
        if (r == -Errno.EAGAIN) return 0;
        if (r < 0) throw new KvmException("read(eventfd " + name + ")", (int) -r);
        return buf.get(JAVA_LONG, 0);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) Libc.close(fd);
    }

    @Override
    public String toString() {
        return "EventFd[" + name + ", fd " + fd + "]";
    }
}
