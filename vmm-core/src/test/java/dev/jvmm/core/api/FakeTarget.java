package dev.jvmm.core.api;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A ControlTarget with fixed answers that records what it was asked, for the server tests. */
final class FakeTarget implements ControlTarget {
    final AtomicInteger stops = new AtomicInteger();
    final List<String> signals = new CopyOnWriteArrayList<>();
    volatile ControlException sdeiFailure;
    volatile RuntimeException statusBug;
    volatile boolean pvTimeOff;
    /** When set, status() signals {@link #entered} and waits for this latch (a request "in flight"). */
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
        return new VmStatus(stops.get() > 0 ? VmStatus.State.STOPPING : VmStatus.State.RUNNING, 2, 256L << 20,
                Duration.ofMillis(1500), 4242, "/images/Image");
    }

    @Override
    public void stop() {
        stops.incrementAndGet();
    }

    @Override
    public void sdeiSignal(long event, int cpu) throws ControlException {
        if (sdeiFailure != null) throw sdeiFailure;
        signals.add(event + "@" + cpu);
    }

    @Override
    public List<SharedRegion> sharedRegions() {
        return List.of(new SharedRegion(0x8000_0000L, 0x1000), new SharedRegion(0x8010_0000L, 0x3000));
    }

    @Override
    public List<VcpuStolenTime> stolenTime() throws ControlException {
        if (pvTimeOff) throw ControlException.notAvailable("PV stolen time is off");
        return List.of(new VcpuStolenTime(0, 1234), new VcpuStolenTime(1, 0));
    }

    @Override
    public List<HypercallCount> hypercallStats() {
        return List.of(new HypercallCount(0xC400_0021L, "SDEI_EVENT_SIGNAL", 3), new HypercallCount(0xC600_0042L, null, 1));
    }
}
