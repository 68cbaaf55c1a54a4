package dev.jvmm.core.memory;

import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.sys.Libc;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * --mem-lock: guest memory is pre-faulted (MADV_POPULATE_WRITE) and pinned (mlock) before the first
 * vCPU runs, so the guest never waits for the host to fault in or swap back one of its pages. mlock
 * counts against RLIMIT_MEMLOCK unless the process has CAP_IPC_LOCK; {@link #limitProblem} turns a
 * too-low limit into one line before anything starts.
 *
 * <p>This is host-side only. A KVM stage-2 lock (KVM_CAP_ARM_LOCK_USER_MEMORY_REGION, an SPE RFC)
 * never reached mainline; stage-2 pre-faulting (KVM_PRE_FAULT_MEMORY) is probed with
 * KVM_CAP_PRE_FAULT_MEMORY and used by the VM builder where present, which mainline arm64 KVM is
 * not (x86 and s390 only).
 */
public final class MemoryLock {
    private static final System.Logger LOG = System.getLogger("jvmm.memory");
    private static final int CAP_IPC_LOCK = 14;

    private MemoryLock() {}

    /**
     * Why locking {@code needed} bytes would fail under these limits, or empty when it fits.
     *
     * @param soft RLIMIT_MEMLOCK's soft limit in bytes ({@link Libc#RLIM_INFINITY} for unlimited)
     * @param hard its hard limit, the most an unprivileged {@code ulimit -l} can raise the soft one
     *     to
     * @param what what the bytes are, e.g. "256 MiB RAM + 64 KiB PV-time records"
     */
    public static Optional<String> limitProblem(
            long needed, long soft, long hard, boolean capIpcLock, String what) {
        if (capIpcLock || soft == Libc.RLIM_INFINITY || Long.compareUnsigned(soft, needed) >= 0)
            return Optional.empty();
        long kib = (needed + 1023) / 1024;
        String head =
                String.format(
                        "--mem-lock: RLIMIT_MEMLOCK is %d KiB, too low to lock %d KiB (%s); ",
                        soft / 1024, kib, what);
        if (hard == Libc.RLIM_INFINITY || Long.compareUnsigned(hard, needed) >= 0) {
            return Optional.of(
                    head
                            + "raise it with 'ulimit -l "
                            + kib
                            + "' (or 'ulimit -l unlimited') before"
                            + " starting jvmm, or give jvmm CAP_IPC_LOCK");
        }
        return Optional.of(
                head
                        + "the hard limit is "
                        + hard / 1024
                        + " KiB, so raise it in /etc/security/limits.conf"
                        + " ('USER hard memlock "
                        + kib
                        + "', then log in again) or give jvmm CAP_IPC_LOCK");
    }

    /** The same check against this process's limits and capabilities. */
    public static Optional<String> limitProblem(long needed, String what) {
        long[] lim = Libc.getrlimit(Libc.RLIMIT_MEMLOCK);
        return limitProblem(needed, lim[0], lim[1], hasCapIpcLock(), what);
    }

    /** CAP_IPC_LOCK in this process's effective capabilities (/proc/self/status CapEff). */
    public static boolean hasCapIpcLock() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    return (Long.parseUnsignedLong(line.substring(7).trim(), 16)
                                    & (1L << CAP_IPC_LOCK))
                            != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }

    /**
     * Pre-faults every page of {@code seg} writable, then pins it. MADV_POPULATE_WRITE (Linux 5.14)
     * is the fast path; where it is missing, mlock faults the pages in itself.
     */
    public static void lock(MemorySegment seg, String what) {
        int r = Libc.madviseRaw(seg, Libc.MADV_POPULATE_WRITE);
        if (r < 0)
            LOG.log(
                    Level.DEBUG,
                    "MADV_POPULATE_WRITE("
                            + what
                            + "): "
                            + Errno.name(-r)
                            + "; mlock faults it in");
        Libc.mlock(seg, "mlock(" + what + ")");
    }
}
