package dev.jvmm.core.snapshot;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A restore's snapshot read on a thread of its own from the moment the process starts, while
 * picocli builds and parses the command line: the manifest's read, parse and checks ({@link
 * Snapshot#open}), then the memory file's CRC32C ({@link Snapshot#checkMemoryAhead}), both cold
 * code that on two CPUs overlaps the command line's (the parse alone initialises jackson's parser
 * base class and with it {@link java.math.BigDecimal}, whose static initialiser squares 5 up to
 * 5^65536, interpreted: a quarter of a restore's main-thread samples in the lab when it ran on the
 * main thread). It only reads. Nothing it finds is reported early: the command takes the result at
 * the point where it would have read the snapshot itself ({@link #open}), so a usage error in the
 * options still comes first, the snapshot's refusal next (the same line and exception as a read on
 * the calling thread), and a damaged memory file where the memory is mapped.
 */
public final class SnapshotAhead {
    /** The read started by {@link #startEarly}, not yet taken. */
    private static final AtomicReference<SnapshotAhead> EARLY = new AtomicReference<>();

    private final Path dir;
    private final CompletableFuture<Snapshot> snapshot = new CompletableFuture<>();

    private SnapshotAhead(Path dir) {
        this.dir = dir;
    }

    /**
     * Starts reading {@code dir} (as the command line names it, before it is parsed) on a daemon
     * thread: a command refused meanwhile does not wait for it. Once per process.
     */
    public static void startEarly(String dir) {
        Path path;
        try {
            path = Path.of(dir);
        } catch (RuntimeException e) {
            return; // not a path: the command line's parse says so
        }
        SnapshotAhead ahead = new SnapshotAhead(path);
        if (!EARLY.compareAndSet(null, ahead)) return;
        // the parser's initialisation beside the manifest's read, not after it: it is most of the
        // read thread's time (BigDecimal's, 0.6-0.8 s in the lab), and needs no byte of the file
        Thread.ofPlatform().daemon().name("jvmm-json-init").start(Snapshot::warmParser);
        Thread.ofPlatform().daemon().name("jvmm-snapshot-read").start(ahead::read);
    }

    private void read() {
        Snapshot s;
        try {
            s = Snapshot.open(dir);
        } catch (Throwable e) {
            snapshot.completeExceptionally(e);
            return;
        }
        // published with its memory check under way: mapMemory waits for that check alone
        s.checkMemoryAhead(snapshot);
    }

    /**
     * The snapshot in {@code dir}: the early read's result when it read this directory (waited for;
     * what it threw is thrown here), else read on this thread.
     */
    public static Snapshot open(Path dir) {
        SnapshotAhead early = EARLY.getAndSet(null);
        if (early == null || !early.dir.equals(dir)) return Snapshot.open(dir);
        try {
            return early.snapshot.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw e;
        }
    }
}
