package dev.jvmm.core.net;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import dev.jvmm.core.device.DeviceException;
import dev.jvmm.core.virtio.net.NetBackend;
import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.sys.EventFd;
import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.sys.Poll;
import dev.jvmm.kvm.sys.PollSet;
import dev.jvmm.kvm.sys.Tun;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * virtio-net's host side on a Linux tap (IFF_TAP | IFF_NO_PI: one read is one ethernet frame, no
 * header). {@link #read} blocks in poll(2) on the tap and a stop eventfd, so {@link #close} can end
 * a read in progress, which a plain blocking read(2) would not allow. One thread reads and one
 * writes; each has its own native buffer.
 */
public final class TapNetBackend implements NetBackend {
    /**
     * Larger than any frame a tap without offloads delivers (MTU 1500 + headers; 64 KiB for
     * jumbo/GSO-free paths).
     */
    static final int BUFFER = 65536;

    private final String name;
    private final int fd;
    private final EventFd stop;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment rx = arena.allocate(BUFFER), tx = arena.allocate(BUFFER);
    private final Object readLock = new Object(), writeLock = new Object();
    private final PollSet readable;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicLong truncated = new AtomicLong();
    private volatile boolean closed;

    private TapNetBackend(String name, int fd, EventFd stop) {
        this.name = name;
        this.fd = fd;
        this.stop = stop;
        this.readable = new PollSet(Poll.POLLIN, fd, stop.fd());
    }

    /**
     * Attaches to tap {@code name}, creating it if it does not exist and this process may.
     *
     * @throws DeviceException one line naming the tap, the failed step and errno, with a hint for
     *     the usual causes
     */
    public static TapNetBackend open(String name) {
        int fd;
        try {
            fd = Tun.openTap(name);
        } catch (KvmException e) {
            throw new DeviceException("tap " + name + ": " + e.getMessage() + hint(e), e);
        }
        try {
            return new TapNetBackend(name, fd, EventFd.create("tap " + name + " stop"));
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    private static String hint(KvmException e) {
        return switch (e.errnoName()) {
            case "EBUSY" -> " (another process has it attached)";
            case "EPERM" ->
                    " (creating or attaching a tap needs CAP_NET_ADMIN, or a tap made for this user)";
            case "ENOENT", "ENODEV" ->
                    e.operation().startsWith("open") ? " (no tun driver: load the tun module)" : "";
            case "EINVAL" -> " (an interface of that name exists and is not a tap)";
            default -> "";
        };
    }

    public String name() {
        return name;
    }

    /** Frames longer than the reader's buffer, delivered cut short. */
    public long truncatedFrames() {
        return truncated.get();
    }

    /** Blocks until a frame arrives and copies it (truncated to {@code len}); -1 once closed. */
    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        synchronized (readLock) {
            while (!closed) {
                int n = readable.await(-1);
                if (n == -Errno.EINTR) continue;
                if (n < 0) throw new IOException("tap " + name + ": poll: " + Errno.name(-n));
                if (readable.revents(1) != 0 || closed) return -1;
                int ev = readable.revents(0);
                if ((ev & (Poll.POLLERR | Poll.POLLHUP | Poll.POLLNVAL)) != 0
                        && (ev & Poll.POLLIN) == 0) {
                    throw new IOException(
                            "tap " + name + ": poll reports 0x" + Integer.toHexString(ev));
                }
                long r = Libc.readRaw(fd, rx);
                if (r == -Errno.EAGAIN || r == -Errno.EINTR) continue;
                if (r < 0) throw new IOException("tap " + name + ": read: " + Errno.name((int) -r));
                int copy = (int) Math.min(r, len);
                if (copy < r) truncated.incrementAndGet();
                MemorySegment.copy(rx, JAVA_BYTE, 0, b, off, copy);
                return copy;
            }
            return -1;
        }
    }

    /** Sends one frame. Frames larger than the buffer are not valid ethernet and are refused. */
    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (len > BUFFER)
            throw new IOException(
                    "tap " + name + ": frame of " + len + " bytes is larger than " + BUFFER);
        synchronized (writeLock) {
            if (closed) throw new IOException("tap " + name + " is closed");
            MemorySegment.copy(b, off, tx, JAVA_BYTE, 0, len);
            while (true) {
                long r = Libc.writeRaw(fd, tx.asSlice(0, len));
                if (r == -Errno.EINTR) continue;
                // a tap never blocks a writer for long: EAGAIN means the interface queue is full,
                // so the frame is dropped like on a wire
                if (r == -Errno.EAGAIN) return;
                if (r < 0)
                    throw new IOException("tap " + name + ": write: " + Errno.name((int) -r));
                return;
            }
        }
    }

    /**
     * Ends a pending read, waits for reader and writer to leave, then releases the fd and buffers.
     * Idempotent.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) return;
        closed = true;
        stop.signal();
        synchronized (readLock) {
            synchronized (writeLock) {
                Libc.close(fd);
                stop.close();
                arena.close();
            }
        }
    }

    @Override
    public String toString() {
        return "tap " + name;
    }
}
