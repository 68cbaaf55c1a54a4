package dev.jvmm.kvm.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jvmm.kvm.KvmException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.ref.Reference;

/**
 * The libc calls the VMM needs. Methods named like the libc function throw {@link KvmException}
 * naming the caller's operation; {@code *Raw} variants return {@code -errno} instead, for probes
 * and for KVM_RUN's expected EINTR.
 *
 * <p><b>One downcall shape for all of them.</b> Every call goes through the same errno-capturing
 * handle for {@code long f(long, long, long, long, long, long)}, with the function's address as its
 * first argument ({@link #call}). Each distinct shape makes the JDK spin about ten method-handle
 * classes and a native stub at run time, which the AOT cache cannot keep: linking 13 shapes made
 * 133 of the classes a lab boot generated, interpreted under emulation (issue 12). On the two ABIs
 * jvmm runs on (AArch64 and x86-64 Linux, AAPCS64 and System V) a function taking fewer or narrower
 * integer and pointer arguments reads only the registers it declares, and their low bits for an
 * {@code int}; variadic arguments travel as named ones do (x86-64's {@code %al} only tells a
 * variadic callee whether to save vector registers). So ints are passed sign-extended, pointers as
 * their address, unused arguments as 0, and an {@code int} result is the low 32 bits of the return
 * register ({@code (int)} cast: the upper half is undefined). Pointers must be native memory
 * ({@link #address}), kept reachable by the caller across the call.
 */
public final class Libc {
    public static final int O_RDONLY = 0, O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public static final int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    public static final int MAP_SHARED = 1,
            MAP_PRIVATE = 2,
            MAP_FIXED = 0x10,
            MAP_ANONYMOUS = 0x20,
            MAP_NORESERVE = 0x4000;
    public static final int MADV_DONTFORK = 10, MADV_HUGEPAGE = 14, MADV_POPULATE_WRITE = 23;
    public static final int EFD_NONBLOCK = O_NONBLOCK, EFD_CLOEXEC = O_CLOEXEC;
    public static final int SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;

    /**
     * glibc's sigset_t is 1024 bits; the kernel's (what KVM_SET_SIGNAL_MASK takes) is 64 on
     * arm64/x86_64.
     */
    public static final int GLIBC_SIGSET_BYTES = 128, KERNEL_SIGSET_BYTES = 8;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    // a plain offset rather than a layout-path VarHandle, which would spin classes of its own
    private static final long ERRNO_OFFSET =
            CAPTURE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

    /** The one shape: {@code long f(long, long, long, long, long, long)}. */
    private static final FunctionDescriptor SHAPE =
            FunctionDescriptor.of(
                    JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);

    private Libc() {}

    /** The handle for {@link #SHAPE}: (function, call state, six arguments) to the result. */
    private static final class Call {
        static final MethodHandle H =
                LINKER.downcallHandle(SHAPE, Linker.Option.captureCallState("errno"));
    }

    /**
     * The same shape linked {@code critical}: no thread-state transition around the call. Only for
     * calls that never block and return in microseconds (KVM_GET/SET_ONE_REG, KVM_IRQ_LINE); never
     * KVM_RUN or anything that can wait, since a critical call holds up safepoints (GC) until it
     * returns. In its own holder: linked only when first used.
     */
    private static final class ShortCall {
        static final MethodHandle H =
                LINKER.downcallHandle(
                        SHAPE,
                        Linker.Option.captureCallState("errno"),
                        Linker.Option.critical(false));
    }

    /** The address of libc's {@code name}, for {@link #call}. */
    static MemorySegment function(String name) {
        return LINKER.defaultLookup()
                .find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
    }

    /**
     * Calls {@code fn} with six integer or pointer arguments (unused ones 0); the raw return
     * register (cast to {@code int} for an int result), errno in {@link #lastErrno()}.
     */
    static long call(MemorySegment fn, long a, long b, long c, long d, long e, long f) {
        try {
            return (long) Call.H.invokeExact(fn, STATE.get(), a, b, c, d, e, f);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long call(MemorySegment fn) {
        return call(fn, 0, 0, 0, 0, 0, 0);
    }

    static long call(MemorySegment fn, long a) {
        return call(fn, a, 0, 0, 0, 0, 0);
    }

    static long call(MemorySegment fn, long a, long b) {
        return call(fn, a, b, 0, 0, 0, 0);
    }

    static long call(MemorySegment fn, long a, long b, long c) {
        return call(fn, a, b, c, 0, 0, 0);
    }

    /**
     * The address of {@code seg} as a call argument; refuses heap memory, whose address is no
     * pointer.
     */
    static long address(MemorySegment seg) {
        if (!seg.isNative()) throw new IllegalArgumentException("a downcall needs native memory");
        return seg.address();
    }

    /**
     * A downcall handle of its own for {@code name}, errno captured: for tests that need a libc
     * function jvmm does not call.
     */
    static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] opts = new Linker.Option[extra.length + 1];
        opts[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, opts, 1, extra.length);
        return LINKER.downcallHandle(function(name), fd, opts);
    }

    /** This thread's call-state buffer, passed first to every errno-capturing downcall. */
    static MemorySegment state() {
        return STATE.get();
    }

    /** errno as captured by this thread's last downcall. */
    static int lastErrno() {
        return STATE.get().get(JAVA_INT, ERRNO_OFFSET);
    }

    /** An int result, or {@code -errno} when it is -1. */
    private static int intOrErrno(long r) {
        return (int) r == -1 ? -lastErrno() : (int) r;
    }

    /** A long result (ssize_t), or {@code -errno} when it is -1. */
    private static long longOrErrno(long r) {
        return r == -1 ? -lastErrno() : r;
    }

    /** An int result that must not be -1: else {@code op} failed with errno. */
    private static int checked(long r, String op) {
        if ((int) r == -1) throw new KvmException(op, lastErrno());
        return (int) r;
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) return re;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    private static final class Fn {
        static final MemorySegment IOCTL = function("ioctl"),
                OPEN = function("open"),
                CLOSE = function("close"),
                READ = function("read"),
                WRITE = function("write"),
                EVENTFD = function("eventfd");
    }

    // ---- ioctl: always pass a third argument (garbage in that register makes some ioctls fail)
    // ----

    /**
     * A short, non-blocking pointer ioctl (see {@link ShortCall}); the result, or {@code -errno}.
     * {@code arg} must be native memory.
     */
    public static int shortIoctlRaw(int fd, long request, MemorySegment arg) {
        try {
            long r =
                    (long)
                            ShortCall.H.invokeExact(
                                    Fn.IOCTL,
                                    STATE.get(),
                                    (long) fd,
                                    request,
                                    address(arg),
                                    0L,
                                    0L,
                                    0L);
            return intOrErrno(r);
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            Reference.reachabilityFence(arg);
        }
    }

    /** ioctl with an integer argument; the result, or {@code -errno}. */
    public static int ioctlRaw(int fd, long request, long arg) {
        return intOrErrno(call(Fn.IOCTL, fd, request, arg));
    }

    /** ioctl with a pointer argument; the result, or {@code -errno}. */
    public static int ioctlRaw(int fd, long request, MemorySegment arg) {
        try {
            return intOrErrno(call(Fn.IOCTL, fd, request, address(arg)));
        } finally {
            Reference.reachabilityFence(arg);
        }
    }

    public static int ioctl(int fd, long request, long arg, String op) {
        int r = ioctlRaw(fd, request, arg);
        if (r < 0) throw new KvmException(op, -r);
        return r;
    }

    public static int ioctl(int fd, long request, MemorySegment arg, String op) {
        int r = ioctlRaw(fd, request, arg);
        if (r < 0) throw new KvmException(op, -r);
        return r;
    }

    // ---- files ----

    /** open(2); the fd, or {@code -errno}. */
    public static int openRaw(String path, int flags, int mode) {
        try (Arena a = Arena.ofConfined()) {
            return intOrErrno(call(Fn.OPEN, address(a.allocateFrom(path)), flags, mode));
        }
    }

    public static int open(String path, int flags, int mode) {
        int r = openRaw(path, flags, mode);
        if (r < 0) throw new KvmException("open(" + path + ")", -r);
        return r;
    }

    public static void close(int fd) {
        checked(call(Fn.CLOSE, fd), "close(" + fd + ")");
    }

    /** read(2) into {@code buf}; bytes read, or {@code -errno}. */
    public static long readRaw(int fd, MemorySegment buf) {
        try {
            return longOrErrno(call(Fn.READ, fd, address(buf), buf.byteSize()));
        } finally {
            Reference.reachabilityFence(buf);
        }
    }

    /** write(2) of {@code buf}; bytes written, or {@code -errno}. */
    public static long writeRaw(int fd, MemorySegment buf) {
        try {
            return longOrErrno(call(Fn.WRITE, fd, address(buf), buf.byteSize()));
        } finally {
            Reference.reachabilityFence(buf);
        }
    }

    public static int eventfd(int initval, int flags) {
        return checked(call(Fn.EVENTFD, initval, flags), "eventfd");
    }

    // ---- limits ----

    public static final int RLIMIT_MEMLOCK = 8;

    /** RLIM_INFINITY as a Java long (all ones). */
    public static final long RLIM_INFINITY = -1L;

    /** getrlimit(2): {soft, hard}; {@link #RLIM_INFINITY} for unlimited. */
    public static long[] getrlimit(int resource) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment lim = a.allocate(JAVA_LONG, 2);
            checked(call(MemFn.GETRLIMIT, resource, address(lim)), "getrlimit(" + resource + ")");
            return new long[] {lim.getAtIndex(JAVA_LONG, 0), lim.getAtIndex(JAVA_LONG, 1)};
        }
    }

    // ---- memory ----

    private static final class MemFn {
        static final MemorySegment MMAP = function("mmap"),
                MUNMAP = function("munmap"),
                MPROTECT = function("mprotect"),
                MLOCK = function("mlock"),
                MUNLOCK = function("munlock"),
                MADVISE = function("madvise"),
                GETRLIMIT = function("getrlimit");
    }

    /** mmap(2) at a kernel-chosen address; the mapping as a segment of {@code length} bytes. */
    public static MemorySegment mmap(
            long length, int prot, int flags, int fd, long offset, String op) {
        long p = call(MemFn.MMAP, 0, length, prot, flags, fd, offset);
        if (p == -1L) throw new KvmException(op, lastErrno()); // MAP_FAILED
        return MemorySegment.ofAddress(p).reinterpret(length);
    }

    /**
     * mmap(2) of {@code fd} from {@code offset} exactly over {@code where} (MAP_FIXED is added to
     * {@code flags}: whatever was mapped there is replaced); 0, or {@code -errno}.
     */
    public static int mmapOverRaw(MemorySegment where, int prot, int flags, int fd, long offset) {
        try {
            long p =
                    call(
                            MemFn.MMAP,
                            address(where),
                            where.byteSize(),
                            prot,
                            flags | MAP_FIXED,
                            fd,
                            offset);
            return p == -1L ? -lastErrno() : 0;
        } finally {
            Reference.reachabilityFence(where);
        }
    }

    public static void munmap(MemorySegment seg) {
        checked(call(MemFn.MUNMAP, address(seg), seg.byteSize()), "munmap");
    }

    /** mprotect(2) of the whole of {@code seg} (page aligned, e.g. from {@link #mmap}). */
    public static void mprotect(MemorySegment seg, int prot, String op) {
        checked(call(MemFn.MPROTECT, address(seg), seg.byteSize(), prot), op);
    }

    public static void mlock(MemorySegment seg) {
        mlock(seg, "mlock");
    }

    /** mlock(2); a failure names {@code op} (e.g. "mlock(guest RAM)"). */
    public static void mlock(MemorySegment seg, String op) {
        checked(call(MemFn.MLOCK, address(seg), seg.byteSize()), op);
    }

    public static void munlock(MemorySegment seg) {
        checked(call(MemFn.MUNLOCK, address(seg), seg.byteSize()), "munlock");
    }

    /**
     * madvise(2); 0, or {@code -errno} (advice such as MADV_POPULATE_WRITE is missing on old
     * kernels).
     */
    public static int madviseRaw(MemorySegment seg, int advice) {
        return intOrErrno(call(MemFn.MADVISE, address(seg), seg.byteSize(), advice));
    }

    // ---- record locks ----

    /**
     * fcntl commands for open-file-description locks (asm-generic: the same on arm64 and x86_64).
     */
    public static final int F_OFD_GETLK = 36, F_OFD_SETLK = 37;

    public static final short F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;

    /**
     * struct flock: l_type, l_whence (short each), l_start, l_len (off_t), l_pid, padded to 32
     * bytes.
     */
    static final StructLayout FLOCK =
            MemoryLayout.structLayout(
                    ValueLayout.JAVA_SHORT.withName("l_type"),
                    ValueLayout.JAVA_SHORT.withName("l_whence"),
                    MemoryLayout.paddingLayout(4),
                    JAVA_LONG.withName("l_start"),
                    JAVA_LONG.withName("l_len"),
                    JAVA_INT.withName("l_pid"),
                    MemoryLayout.paddingLayout(4));

    private static final class LockFn {
        static final MemorySegment FCNTL = function("fcntl");
    }

    /**
     * Takes (or with {@link #F_UNLCK} drops) an open-file-description lock on the whole file
     * without waiting ({@code F_OFD_SETLK}). Unlike a POSIX record lock, it belongs to the open
     * file description behind {@code fd}: closing another descriptor of the same file, in this
     * process or not, keeps it.
     *
     * @param type {@link #F_RDLCK} (shared), {@link #F_WRLCK} (exclusive) or {@link #F_UNLCK}
     * @return 0, or {@code -errno} ({@code -EAGAIN}/{@code -EACCES}: someone else holds a
     *     conflicting lock)
     */
    public static int ofdLockRaw(int fd, short type) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fl =
                    a.allocate(FLOCK); // zeroed: SEEK_SET, start 0, len 0 (to the end), pid 0
            // (required)
            fl.set(ValueLayout.JAVA_SHORT, 0, type);
            return intOrErrno(call(LockFn.FCNTL, fd, F_OFD_SETLK, address(fl)));
        }
    }
}
