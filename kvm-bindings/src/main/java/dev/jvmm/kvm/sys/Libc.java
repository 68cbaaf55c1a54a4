package dev.jvmm.kvm.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
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
import java.lang.invoke.VarHandle;

/**
 * The libc calls the VMM needs, each through one errno-capturing downcall. Methods named like the
 * libc function throw {@link KvmException} naming the caller's operation; {@code *Raw} variants
 * return {@code -errno} instead, for probes and for KVM_RUN's expected EINTR.
 *
 * <p>Each downcall handle lives in its own holder class so it is only created when first used:
 * creating handles dominates start-up under emulation, and most runs need a handful of them.
 */
public final class Libc {
    public static final int O_RDONLY = 0, O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public static final int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    public static final int MAP_SHARED = 1,
            MAP_PRIVATE = 2,
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
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

    private Libc() {}

    static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] opts = new Linker.Option[extra.length + 1];
        opts[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, opts, 1, extra.length);
        MemorySegment sym =
                LINKER.defaultLookup()
                        .find(name)
                        .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return LINKER.downcallHandle(sym, fd, opts);
    }

    /** This thread's call-state buffer, passed first to every errno-capturing downcall. */
    static MemorySegment state() {
        return STATE.get();
    }

    /** errno as captured by this thread's last downcall. */
    static int lastErrno() {
        return errno(STATE.get());
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static long check(long r, MemorySegment state, String op) {
        if (r == -1) throw new KvmException(op, errno(state));
        return r;
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) return re;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    // ---- ioctl: always pass a third argument (garbage in that register makes some ioctls fail)
    // ----

    private static final class Ioctl {
        static final MethodHandle LONG =
                downcall(
                        "ioctl",
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
                        Linker.Option.firstVariadicArg(2));
        static final MethodHandle PTR =
                downcall(
                        "ioctl",
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
                        Linker.Option.firstVariadicArg(2));
    }

    /**
     * The same pointer ioctl linked {@code critical}: no thread-state transition around the call.
     * Only for ioctls that never block and return in microseconds (KVM_GET/SET_ONE_REG,
     * KVM_IRQ_LINE); never KVM_RUN or anything that can wait, since a critical call holds up
     * safepoints (GC) until it returns. In its own holder: linked only when first used.
     */
    private static final class ShortIoctl {
        static final MethodHandle PTR =
                downcall(
                        "ioctl",
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
                        Linker.Option.firstVariadicArg(2),
                        Linker.Option.critical(false));
    }

    /**
     * A short, non-blocking pointer ioctl (see {@link ShortIoctl}); the result, or {@code -errno}.
     * {@code arg} must be native memory.
     */
    public static int shortIoctlRaw(int fd, long request, MemorySegment arg) {
        MemorySegment st = STATE.get();
        try {
            int r = (int) ShortIoctl.PTR.invokeExact(st, fd, request, arg);
            return r == -1 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** ioctl with an integer argument; the result, or {@code -errno}. */
    public static int ioctlRaw(int fd, long request, long arg) {
        MemorySegment st = STATE.get();
        try {
            int r = (int) Ioctl.LONG.invokeExact(st, fd, request, arg);
            return r == -1 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** ioctl with a pointer argument; the result, or {@code -errno}. */
    public static int ioctlRaw(int fd, long request, MemorySegment arg) {
        MemorySegment st = STATE.get();
        try {
            int r = (int) Ioctl.PTR.invokeExact(st, fd, request, arg);
            return r == -1 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
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

    private static final class Open {
        static final MethodHandle H =
                downcall(
                        "open",
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                        Linker.Option.firstVariadicArg(2));
    }

    /** open(2); the fd, or {@code -errno}. */
    public static int openRaw(String path, int flags, int mode) {
        MemorySegment st = STATE.get();
        try (Arena a = Arena.ofConfined()) {
            int r = (int) Open.H.invokeExact(st, a.allocateFrom(path), flags, mode);
            return r == -1 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int open(String path, int flags, int mode) {
        int r = openRaw(path, flags, mode);
        if (r < 0) throw new KvmException("open(" + path + ")", -r);
        return r;
    }

    private static final class Close {
        static final MethodHandle H = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    public static void close(int fd) {
        MemorySegment st = STATE.get();
        try {
            check((int) Close.H.invokeExact(st, fd), st, "close(" + fd + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final class ReadWrite {
        static final FunctionDescriptor FD =
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
        static final MethodHandle READ = downcall("read", FD);
        static final MethodHandle WRITE = downcall("write", FD);
    }

    /** read(2) into {@code buf}; bytes read, or {@code -errno}. */
    public static long readRaw(int fd, MemorySegment buf) {
        MemorySegment st = STATE.get();
        try {
            long r = (long) ReadWrite.READ.invokeExact(st, fd, buf, buf.byteSize());
            return r == -1 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** write(2) of {@code buf}; bytes written, or {@code -errno}. */
    public static long writeRaw(int fd, MemorySegment buf) {
        MemorySegment st = STATE.get();
        try {
            long r = (long) ReadWrite.WRITE.invokeExact(st, fd, buf, buf.byteSize());
            return r == -1 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final class EventFd {
        static final MethodHandle H =
                downcall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    }

    public static int eventfd(int initval, int flags) {
        MemorySegment st = STATE.get();
        try {
            return (int) check((int) EventFd.H.invokeExact(st, initval, flags), st, "eventfd");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- limits ----

    public static final int RLIMIT_MEMLOCK = 8;

    /** RLIM_INFINITY as a Java long (all ones). */
    public static final long RLIM_INFINITY = -1L;

    private static final class Rlimit {
        static final MethodHandle GET =
                downcall("getrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    }

    /** getrlimit(2): {soft, hard}; {@link #RLIM_INFINITY} for unlimited. */
    public static long[] getrlimit(int resource) {
        MemorySegment st = STATE.get();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment lim = a.allocate(JAVA_LONG, 2);
            check(
                    (int) Rlimit.GET.invokeExact(st, resource, lim),
                    st,
                    "getrlimit(" + resource + ")");
            return new long[] {lim.getAtIndex(JAVA_LONG, 0), lim.getAtIndex(JAVA_LONG, 1)};
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- memory ----

    private static final class Mmap {
        static final MethodHandle MMAP =
                downcall(
                        "mmap",
                        FunctionDescriptor.of(
                                ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT,
                                JAVA_LONG));
        static final MethodHandle MUNMAP =
                downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    }

    /** mmap(2) at a kernel-chosen address; the mapping as a segment of {@code length} bytes. */
    public static MemorySegment mmap(
            long length, int prot, int flags, int fd, long offset, String op) {
        MemorySegment st = STATE.get();
        try {
            MemorySegment p =
                    (MemorySegment)
                            Mmap.MMAP.invokeExact(
                                    st, MemorySegment.NULL, length, prot, flags, fd, offset);
            if (p.address() == -1L) throw new KvmException(op, errno(st));
            return p.reinterpret(length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void munmap(MemorySegment seg) {
        MemorySegment st = STATE.get();
        try {
            check((int) Mmap.MUNMAP.invokeExact(st, seg, seg.byteSize()), st, "munmap");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final class Protect {
        static final MethodHandle MPROTECT =
                downcall("mprotect", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }

    /** mprotect(2) of the whole of {@code seg} (page aligned, e.g. from {@link #mmap}). */
    public static void mprotect(MemorySegment seg, int prot, String op) {
        MemorySegment st = STATE.get();
        try {
            check((int) Protect.MPROTECT.invokeExact(st, seg, seg.byteSize(), prot), st, op);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final class Lock {
        static final FunctionDescriptor FD = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG);
        static final MethodHandle MLOCK = downcall("mlock", FD);
        static final MethodHandle MUNLOCK = downcall("munlock", FD);
        static final MethodHandle MADVISE =
                downcall("madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }

    public static void mlock(MemorySegment seg) {
        mlock(seg, "mlock");
    }

    /** mlock(2); a failure names {@code op} (e.g. "mlock(guest RAM)"). */
    public static void mlock(MemorySegment seg, String op) {
        MemorySegment st = STATE.get();
        try {
            check((int) Lock.MLOCK.invokeExact(st, seg, seg.byteSize()), st, op);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void munlock(MemorySegment seg) {
        MemorySegment st = STATE.get();
        try {
            check((int) Lock.MUNLOCK.invokeExact(st, seg, seg.byteSize()), st, "munlock");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * madvise(2); 0, or {@code -errno} (advice such as MADV_POPULATE_WRITE is missing on old
     * kernels).
     */
    public static int madviseRaw(MemorySegment seg, int advice) {
        MemorySegment st = STATE.get();
        try {
            int r = (int) Lock.MADVISE.invokeExact(st, seg, seg.byteSize(), advice);
            return r == -1 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
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

    private static final class Fcntl {
        static final MethodHandle PTR =
                downcall(
                        "fcntl",
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
                        Linker.Option.firstVariadicArg(2));
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
        MemorySegment st = STATE.get();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fl =
                    a.allocate(FLOCK); // zeroed: SEEK_SET, start 0, len 0 (to the end), pid 0
            // (required)
            fl.set(ValueLayout.JAVA_SHORT, 0, type);
            int r = (int) Fcntl.PTR.invokeExact(st, fd, F_OFD_SETLK, fl);
            return r == -1 ? -errno(st) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
