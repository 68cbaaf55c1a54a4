package dev.jvmm.core.vm;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The first reason to stop wins; every vCPU is then kicked out of KVM_RUN. Any thread may call
 * {@link #stop}: a vCPU on SYSTEM_OFF, the timeout timer, a signal's shutdown hook, the console.
 */
public final class StopControl {
    private final AtomicReference<VmResult> result = new AtomicReference<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile List<Runnable> kickers = List.of();

    /** The actions that force each vCPU out of KVM_RUN (set once the vCPUs exist). */
    void setKickers(List<Runnable> kickers) {
        this.kickers = List.copyOf(kickers);
        if (isStopped()) kickAll();
    }

    /** Requests a stop; returns true if this call decided the outcome. */
    public boolean stop(VmResult r) {
        if (!result.compareAndSet(null, r)) return false;
        stopped.countDown();
        kickAll();
        return true;
    }

    private void kickAll() {
        for (Runnable k : kickers) {
            try {
                k.run();
            } catch (RuntimeException ignored) {
                // a vCPU that is already gone needs no kick
            }
        }
    }

    public boolean isStopped() {
        return result.get() != null;
    }

    public VmResult result() {
        return result.get();
    }

    /** Waits for a stop; null on timeout. */
    public VmResult await(long timeout, TimeUnit unit) throws InterruptedException {
        return stopped.await(timeout, unit) ? result.get() : null;
    }
}
