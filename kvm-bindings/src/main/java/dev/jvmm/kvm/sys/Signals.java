package dev.jvmm.kvm.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jvmm.kvm.KvmException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

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

    private static final class H {
        static final MethodHandle SIGMASK =
                Libc.downcall(
                        "pthread_sigmask",
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle SIGTIMEDWAIT =
                Libc.downcall(
                        "sigtimedwait", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle TGKILL =
                Libc.downcall(
                        "tgkill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle GETTID = Libc.downcall("gettid", FunctionDescriptor.of(JAVA_INT));
        static final MethodHandle GETPID = Libc.downcall("getpid", FunctionDescriptor.of(JAVA_INT));
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
        try {
            int r = (int) H.SIGMASK.invokeExact(Libc.state(), how, set, oldSet);
            if (r != 0)
                throw new KvmException("pthread_sigmask", r); // returns the error number itself
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Consumes {@code signal} if it is pending for this thread; true when one was pending. */
    public static boolean drain(int signal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment set = sigset(a, signal);
            MemorySegment zero =
                    a.allocate(JAVA_LONG, 2); // struct timespec {0, 0}: poll, never block
            int r = (int) H.SIGTIMEDWAIT.invokeExact(Libc.state(), set, MemorySegment.NULL, zero);
            return r == signal;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Sends {@code signal} to one thread of this process. */
    public static void tgkill(int tid, int signal) {
        try {
            int r = (int) H.TGKILL.invokeExact(Libc.state(), getpid(), tid, signal);
            if (r == -1) throw new KvmException("tgkill(" + tid + ")", Libc.lastErrno());
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    public static int gettid() {
        try {
            return (int) H.GETTID.invokeExact(Libc.state());
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    public static int getpid() {
        try {
            return (int) H.GETPID.invokeExact(Libc.state());
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
