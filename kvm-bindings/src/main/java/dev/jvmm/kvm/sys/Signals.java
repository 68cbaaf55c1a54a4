package dev.jvmm.kvm.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jvmm.kvm.KvmException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;

/**
 * Thread-directed signals without any signal handler: the VMM blocks a real-time signal in each
 * vCPU thread, lets KVM unblock it only inside KVM_RUN (KVM_SET_SIGNAL_MASK), kicks a vCPU with
 * tgkill and drains the still-pending signal with sigtimedwait. Installing a Java upcall as a
 * handler would abort HotSpot, so none is ever installed.
 */
public final class Signals {
    /**
     * SIGRTMIN+6 under glibc (which reserves 32 and 33); HotSpot does not use real-time signals.
     */
    public static final int KICK_SIGNAL = 40;

    private Signals() {}

    private static final class Fn {
        static final MemorySegment SIGMASK = Libc.function("pthread_sigmask"),
                SIGTIMEDWAIT = Libc.function("sigtimedwait"),
                TGKILL = Libc.function("tgkill"),
                GETTID = Libc.function("gettid"),
                GETPID = Libc.function("getpid");
    }

    /** A glibc sigset_t holding exactly {@code signals}. */
    public static MemorySegment sigset(Arena arena, int... signals) {
        MemorySegment set = arena.allocate(Libc.GLIBC_SIGSET_BYTES, 8);
        for (int s : signals) addToSet(set, s);
        return set;
    }

    /**
     * Sets the bit for {@code signal} in a sigset (kernel or glibc layout: both are bit s-1 of LE
     * words).
     */
    public static void addToSet(MemorySegment set, int signal) {
        if (signal < 1 || signal > set.byteSize() * 8)
            throw new IllegalArgumentException("signal " + signal);
        long word = (signal - 1L) / 64;
        long v = set.get(ValueLayout.JAVA_LONG_UNALIGNED, word * 8);
        set.set(ValueLayout.JAVA_LONG_UNALIGNED, word * 8, v | (1L << ((signal - 1) % 64)));
    }

    /** pthread_sigmask for the calling thread; {@code oldSet} may be NULL. */
    public static void threadMask(int how, MemorySegment set, MemorySegment oldSet) {
        long old = oldSet.equals(MemorySegment.NULL) ? 0 : Libc.address(oldSet);
        try {
            int r = (int) Libc.call(Fn.SIGMASK, how, Libc.address(set), old);
            if (r != 0)
                throw new KvmException("pthread_sigmask", r); // returns the error number itself
        } finally {
            Reference.reachabilityFence(set);
            Reference.reachabilityFence(oldSet);
        }
    }

    /** Consumes {@code signal} if it is pending for this thread; true when one was pending. */
    public static boolean drain(int signal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment set = sigset(a, signal);
            MemorySegment zero =
                    a.allocate(JAVA_LONG, 2); // struct timespec {0, 0}: poll, never block
            int r = (int) Libc.call(Fn.SIGTIMEDWAIT, Libc.address(set), 0, Libc.address(zero));
            return r == signal;
        }
    }

    /** Sends {@code signal} to one thread of this process. */
    public static void tgkill(int tid, int signal) {
        int r = (int) Libc.call(Fn.TGKILL, getpid(), tid, signal);
        if (r == -1) throw new KvmException("tgkill(" + tid + ")", Libc.lastErrno());
    }

    public static int gettid() {
        return (int) Libc.call(Fn.GETTID);
    }

    public static int getpid() {
        return (int) Libc.call(Fn.GETPID);
    }
}
