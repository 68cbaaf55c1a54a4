package dev.jvmm.kvm.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * poll(2) on a single fd, so a reader thread can wait for input with a timeout and notice that it
 * was asked to stop: a blocking read(2) on a terminal cannot be interrupted from Java.
 */
public final class Poll {
    public static final int POLLIN = 0x1, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;

    private Poll() {}

    private static final class Fn {
        static final MemorySegment POLL = Libc.function("poll");
    }

    /**
     * Waits up to {@code timeoutMillis} (-1: forever) for {@code events} on {@code fd}.
     *
     * @return the returned events (0 on timeout), or {@code -errno} (EINTR included)
     */
    public static int pollRaw(int fd, int events, int timeoutMillis) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pfd =
                    a.allocate(8, 4); // struct pollfd { int fd; short events; short revents; }
            pfd.set(JAVA_INT, 0, fd);
            pfd.set(JAVA_SHORT, 4, (short) events);
            int r = (int) Libc.call(Fn.POLL, Libc.address(pfd), 1, timeoutMillis);
            if (r == -1) return -Libc.lastErrno();
            return r == 0 ? 0 : Short.toUnsignedInt(pfd.get(JAVA_SHORT, 6));
        }
    }
}
