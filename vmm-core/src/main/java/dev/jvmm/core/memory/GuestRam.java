package dev.jvmm.core.memory;

import dev.jvmm.kvm.sys.Libc;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Guest RAM's host mapping and the threads that may touch it (vCPU threads, device notifier
 * threads). The mapping is unmapped only once every one of those threads has ended: a Java access
 * to unmapped memory is a SIGSEGV that takes the whole JVM down, so a thread that does not end
 * within the wait leaves the mapping in place (leaked until the process exits, and said so in a
 * warning) rather than risk that. A thread that has ended cannot touch anything, so no other
 * bookkeeping is needed.
 */
public final class GuestRam implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("jvmm.memory");

    private final MemorySegment segment;
    private final Consumer<MemorySegment> unmapper;
    private final List<Thread> users = new ArrayList<>(); // guarded by this
    private boolean unmapped, leaked; // guarded by this

    /**
     * @param unmapper releases the mapping (munmap for real RAM; tests pass a recorder)
     */
    public GuestRam(MemorySegment segment, Consumer<MemorySegment> unmapper) {
        this.segment = segment;
        this.unmapper = unmapper;
    }

    /** The transparent huge page size on arm64 (4 KiB pages) and x86-64. */
    public static final long HUGE_PAGE = 2L << 20;

    /**
     * {@code bytes} (a multiple of {@link #HUGE_PAGE}) of anonymous, private, not-yet-backed memory
     * (MAP_NORESERVE: pages come on first touch), aligned to {@link #HUGE_PAGE} and advised
     * MADV_HUGEPAGE, as QEMU and kvmtool map guest RAM: where the host's THP setting is "madvise"
     * (or "always") a first touch then faults in 2 MiB instead of 4 KiB, and KVM maps the guest's
     * stage 2 in 2 MiB blocks, so a booting guest takes about 512 times fewer host page faults and
     * stage-2 faults (each one costly under nested virtualization). A host without THP keeps 4 KiB
     * pages; that is not an error.
     */
    public static GuestRam map(long bytes) {
        if (bytes <= 0 || bytes % HUGE_PAGE != 0)
            throw new IllegalArgumentException("guest RAM must be a multiple of 2 MiB: " + bytes);
        // over-map by one huge page and trim both ends: only Linux 6.7 and later align large
        // anonymous mappings to the THP size themselves
        MemorySegment raw =
                Libc.mmap(
                        bytes + HUGE_PAGE,
                        Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE,
                        -1,
                        0,
                        "mmap(guest RAM)");
        long head = Math.floorMod(-raw.address(), HUGE_PAGE);
        if (head > 0) Libc.munmap(raw.asSlice(0, head));
        if (head < HUGE_PAGE) Libc.munmap(raw.asSlice(head + bytes, HUGE_PAGE - head));
        MemorySegment seg = raw.asSlice(head, bytes);
        int r = Libc.madviseRaw(seg, Libc.MADV_HUGEPAGE);
        if (r != 0)
            LOG.log(
                    System.Logger.Level.DEBUG,
                    "guest RAM: MADV_HUGEPAGE refused (errno {0}); 4 KiB pages",
                    -r);
        return new GuestRam(seg, Libc::munmap);
    }

    public MemorySegment segment() {
        return segment;
    }

    /**
     * Registers a thread that may read or write the mapping until it ends. Threads that already
     * ended are forgotten here, so a VM that reboots in place many times does not collect them.
     */
    public synchronized void addUser(Thread t) {
        if (unmapped)
            throw new IllegalStateException(
                    "guest RAM is already unmapped; " + t.getName() + " cannot use it");
        users.removeIf(u -> !u.isAlive());
        users.add(t);
    }

    /**
     * Waits, at most {@code wait} in all, for every registered thread to end.
     *
     * @return the threads still running (empty: nothing can touch the mapping any more)
     */
    public List<Thread> awaitUsers(Duration wait) throws InterruptedException {
        List<Thread> snapshot;
        synchronized (this) {
            snapshot = List.copyOf(users);
        }
        long deadline = System.nanoTime() + wait.toNanos();
        List<Thread> late = new ArrayList<>();
        for (Thread t : snapshot) {
            if (t == Thread.currentThread()) continue;
            long left = deadline - System.nanoTime();
            if (left > 0) t.join(Duration.ofNanos(left));
            if (t.isAlive()) late.add(t);
        }
        return late;
    }

    /**
     * Unmaps when no registered thread is alive after at most {@code wait}; otherwise leaves the
     * mapping in place and logs (once) which threads kept it; a later call may still unmap it once
     * they have ended. Idempotent.
     *
     * @return true when the memory is unmapped (now or before)
     */
    public boolean release(Duration wait) {
        synchronized (this) {
            if (unmapped) return true;
        }
        List<Thread> late;
        try {
            late = awaitUsers(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            late = liveUsers();
        }
        synchronized (this) {
            if (unmapped) return true;
            if (late.isEmpty()) late = liveUsers(); // a thread registered while we waited
            if (!late.isEmpty()) {
                if (!leaked) {
                    leaked = true;
                    LOG.log(
                            Level.WARNING,
                            "guest RAM left mapped until jvmm exits: "
                                    + late.stream()
                                            .map(Thread::getName)
                                            .collect(Collectors.joining(", "))
                                    + " did not stop within "
                                    + wait.toMillis()
                                    + " ms and could still touch it");
                }
                return false;
            }
            unmapped = true;
        }
        unmapper.accept(segment);
        return true;
    }

    /** {@link #release} with no wait: for threads the caller has already joined. */
    @Override
    public void close() {
        release(Duration.ZERO);
    }

    public synchronized boolean isUnmapped() {
        return unmapped;
    }

    /** True once {@link #release} gave up on a thread that kept running. */
    public synchronized boolean isLeaked() {
        return leaked;
    }

    private synchronized List<Thread> liveUsers() {
        return users.stream().filter(t -> t.isAlive() && t != Thread.currentThread()).toList();
    }
}
