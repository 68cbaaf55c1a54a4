package dev.jvmm.core.api;

import dev.jvmm.core.hypercall.shared.SharedRegionSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A ControlTarget with fixed answers that records what it was asked, for the server tests. */
final class FakeTarget implements ControlTarget {
    final AtomicInteger stops = new AtomicInteger();

    /** What a stop does besides counting (jvmm's own closes the server once the VM stopped). */
    volatile Runnable onStop = () -> {};

    final List<String> signals = new CopyOnWriteArrayList<>();
    final AtomicInteger pauses = new AtomicInteger();
    volatile boolean paused;
    volatile ControlException pauseFailure;
    volatile ControlException sdeiFailure;
    volatile RuntimeException statusBug;
    volatile RuntimeException snapshotFailure;
    volatile boolean pvTimeOff;
    final List<String> snapshots = new CopyOnWriteArrayList<>();

    @Override
    public long snapshot(String dir, boolean stop) {
        if (snapshotFailure != null) throw snapshotFailure;
        snapshots.add(dir + (stop ? " stop" : ""));
        if (stop) stops.incrementAndGet();
        return 4096;
    }

    /**
     * When set, status() signals {@link #entered} and waits for this latch (a request "in flight").
     */
    volatile java.util.concurrent.CountDownLatch hold;

    final java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);

    @Override
    public VmStatus status() {
        if (statusBug != null) throw statusBug;
        if (hold != null) {
            entered.countDown();
            try {
                hold.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        return new VmStatus(
                stops.get() > 0
                        ? VmStatus.State.STOPPING
                        : paused ? VmStatus.State.PAUSED : VmStatus.State.RUNNING,
                2,
                256L << 20,
                Duration.ofMillis(1500),
                4242,
                "/images/Image");
    }

    @Override
    public void stop() {
        stops.incrementAndGet();
        onStop.run();
    }

    @Override
    public boolean pause() throws ControlException {
        pauses.incrementAndGet();
        if (pauseFailure != null) throw pauseFailure;
        boolean changed = !paused;
        paused = true;
        return changed;
    }

    @Override
    public boolean resume() {
        boolean changed = paused;
        paused = false;
        return changed;
    }

    @Override
    public void sdeiSignal(long event, int cpu) throws ControlException {
        if (sdeiFailure != null) throw sdeiFailure;
        signals.add(event + "@" + cpu);
    }

    /**
     * The guest's shared set: 0x80000000 + 4 KiB and 0x80100000 + 12 KiB unless a test replaces it.
     */
    volatile SharedRegionSet shared = new SharedRegionSet(0x8000_0000L, 256L << 20, 4096);

    /** What the last shared-regions request asked for. */
    volatile long askedFrom = -1;

    volatile int askedLimit = -1;

    {
        shared.share(0x8000_0000L, 1);
        shared.share(0x8010_0000L, 3);
    }

    @Override
    public SharedRegionPage sharedRegions(long fromIpa, int limit) {
        askedFrom = fromIpa;
        askedLimit = limit;
        SharedRegionSet.Page p = shared.regions(fromIpa, limit);
        return new SharedRegionPage(
                p.regions().stream().map(r -> new SharedRegion(r.start(), r.size())).toList(),
                p.totalRegions(),
                p.totalBytes(),
                p.next());
    }

    @Override
    public List<VcpuStolenTime> stolenTime() throws ControlException {
        if (pvTimeOff) throw ControlException.notAvailable("PV stolen time is off");
        return List.of(new VcpuStolenTime(0, 1234), new VcpuStolenTime(1, 0));
    }

    @Override
    public HypercallStats hypercallStats() {
        return new HypercallStats(
                List.of(
                        new HypercallCount(0xC400_0021L, "SDEI_EVENT_SIGNAL", 3),
                        new HypercallCount(0xC600_0042L, null, 1)),
                7);
    }
}
