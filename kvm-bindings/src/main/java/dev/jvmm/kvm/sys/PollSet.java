package dev.jvmm.kvm.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;

/**
 * poll(2) over a fixed set of fds, reusing one native {@code struct pollfd} array: a device thread
 * waits here on every queue notification, so nothing is allocated per wait. Confined to the thread
 * that calls {@link #await}.
 */
public final class PollSet {
    private static final int POLLFD_BYTES =
            8; // struct pollfd { int fd; short events; short revents; }

    private static final class Fn {
        static final MemorySegment POLL = Libc.function("poll");
    }

    private final MemorySegment fds;
    private final int count;

    /**
     * Waits for {@code events} (e.g. {@link Poll#POLLIN}) on each of {@code fds}, in this order.
     */
    public PollSet(int events, int... fds) {
        if (fds.length == 0) throw new IllegalArgumentException("no fds to poll");
        this.count = fds.length;
        this.fds = Arena.ofAuto().allocate((long) POLLFD_BYTES * count, 4);
        for (int i = 0; i < count; i++) {
            this.fds.set(JAVA_INT, (long) i * POLLFD_BYTES, fds[i]);
            this.fds.set(JAVA_SHORT, (long) i * POLLFD_BYTES + 4, (short) events);
        }
    }

    public int size() {
        return count;
    }

    /**
     * Waits up to {@code timeoutMillis} (-1: forever).
     *
     * @return how many fds have events (0 on timeout), or {@code -errno} (EINTR included)
     */
    public int await(int timeoutMillis) {
        try {
            int r = (int) Libc.call(Fn.POLL, Libc.address(fds), count, timeoutMillis);
            return r == -1 ? -Libc.lastErrno() : r;
        } finally {
            Reference.reachabilityFence(fds);
        }
    }

    /**
     * The events the last {@link #await} returned for the {@code index}-th fd (POLLIN, POLLERR,
     * ...).
     */
    public int revents(int index) {
        if (index < 0 || index >= count)
            throw new IndexOutOfBoundsException("fd " + index + " of " + count);
        return Short.toUnsignedInt(fds.get(JAVA_SHORT, (long) index * POLLFD_BYTES + 6));
    }
}
