package dev.jvmm.core.device;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The {@link Pl031Rtc.AlarmClock} of real runs: one daemon thread that runs each task at its
 * wall-clock instant (measured as a delay from now, so a host clock step moves it by at most the
 * step). Cancelled tasks leave the queue at once, so a guest rewriting RTCMR in a loop cannot grow
 * it.
 */
public final class AlarmThread implements Pl031Rtc.AlarmClock, AutoCloseable {
    private final InstantSource clock;
    private final ScheduledThreadPoolExecutor executor;

    public AlarmThread(InstantSource clock, String name) {
        this.clock = clock;
        this.executor =
                new ScheduledThreadPoolExecutor(
                        1, Thread.ofPlatform().daemon().name(name).factory());
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    @Override
    public Runnable at(Instant when, Runnable task) {
        long nanos = Math.max(0, Duration.between(clock.instant(), when).toNanos());
        ScheduledFuture<?> f = executor.schedule(task, nanos, TimeUnit.NANOSECONDS);
        return () -> f.cancel(false);
    }

    /** Number of tasks waiting; for tests. */
    int pending() {
        return executor.getQueue().size();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
