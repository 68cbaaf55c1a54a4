package dev.jvmm.core.vm;

import dev.jvmm.core.device.Pl031Rtc;
import dev.jvmm.core.device.Uart8250Device;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Pause and resume of a machine over its ordered {@link VmPart}s: vCPUs, guest counter, virtio
 * devices, UART. Pause brings the parts to rest in that order (the vCPUs first: once they are
 * parked nothing the guest does reaches a device being quiesced); resume goes in reverse (the vCPUs
 * last: they find every device ready). Both are idempotent: a second pause or a resume of a running
 * machine answers "no change" and touches nothing.
 *
 * <p>A pause is bounded: if a part does not come to rest by the deadline (a vCPU stuck outside the
 * guest, a disk request that does not return), the parts already paused resume in reverse and the
 * pause fails with one line naming the part; the VM keeps running. Pause and resume are serialized
 * with each other, never with a stop: a stop while paused ends the run at once (parked vCPU threads
 * leave when the run's stop control is stopped) with the exit code the stop chose.
 */
final class Lifecycle {
    private static final System.Logger LOG = System.getLogger("jvmm.vm");

    private final List<VmPart> parts;
    private final Duration bound;
    private final BooleanSupplier stopping;
    private volatile boolean paused;

    /**
     * @param parts in pause order
     * @param bound how long a pause may take in all
     * @param stopping true once the run is ending for good
     */
    Lifecycle(List<VmPart> parts, Duration bound, BooleanSupplier stopping) {
        this.parts = List.copyOf(parts);
        this.bound = bound;
        this.stopping = stopping;
    }

    /** The standard order of a machine's parts. */
    static List<VmPart> parts(
            VcpuGate vcpus, VirtioDevices virtio, Uart8250Device uart, Pl031Rtc rtc) {
        List<VmPart> list = new ArrayList<>();
        list.add(vcpus);
        list.add(new GuestCounter(vcpus));
        list.addAll(virtio.parts());
        list.add(new UartPart(uart));
        if (rtc != null) list.add(new RtcPart(rtc));
        return list;
    }

    List<VmPart> parts() {
        return parts;
    }

    boolean isPaused() {
        return paused;
    }

    /**
     * Pauses every part; returns false (and does nothing) when already paused.
     *
     * @throws PauseException "cannot pause: ..." when the VM is stopping or a part did not come to
     *     rest in time; the VM then keeps running as before
     */
    synchronized boolean pause() throws PauseException {
        if (paused) return false;
        if (stopping.getAsBoolean()) throw new PauseException("cannot pause: the VM is stopping");
        long deadline = System.nanoTime() + bound.toNanos();
        List<VmPart> done = new ArrayList<>();
        for (VmPart p : parts) {
            try {
                p.pause(deadline);
            } catch (PauseException e) {
                resume(done);
                String within = e.timedOut() ? " within " + seconds(bound) + " s" : "";
                throw new PauseException(
                        "cannot pause: " + e.getMessage() + within + "; the VM keeps running",
                        e.timedOut());
            }
            done.add(p);
        }
        paused = true;
        LOG.log(Level.INFO, "paused");
        return true;
    }

    /** Resumes every part in reverse order; returns false (and does nothing) when not paused. */
    synchronized boolean resume() {
        if (!paused) return false;
        resume(parts);
        paused = false;
        LOG.log(Level.INFO, "resumed");
        return true;
    }

    /**
     * Runs {@code work} on the paused machine (pausing it first if it runs), with no pause or
     * resume in between; afterwards resumes it if this call paused it, unless {@code work}
     * succeeded and {@code keepPaused} is set (a snapshot with --stop: the run ends paused).
     */
    synchronized <T> T whilePaused(Supplier<T> work, boolean keepPaused) throws PauseException {
        boolean here = pause();
        boolean ok = false;
        try {
            T t = work.get();
            ok = true;
            return t;
        } finally {
            if (here && !(ok && keepPaused)) resume();
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0
                ? Long.toString(d.toSeconds())
                : Double.toString(d.toMillis() / 1000.0);
    }

    private static void resume(List<VmPart> paused) {
        for (int i = paused.size() - 1; i >= 0; i--) {
            try {
                paused.get(i).resume();
            } catch (RuntimeException e) { // a bug in one part must not keep the others paused
                LOG.log(Level.ERROR, paused.get(i).name() + ": resume failed", e);
            }
        }
    }

    /** The 8250's host side (see {@link Uart8250Device#hold}). */
    private record UartPart(Uart8250Device uart) implements VmPart {
        @Override
        public String name() {
            return "uart";
        }

        @Override
        public void pause(long deadlineNanos) {
            uart.hold();
        }

        @Override
        public void resume() {
            uart.release();
        }
    }

    /** The PL031's match alarm (see {@link Pl031Rtc#hold}); its clock keeps running. */
    private record RtcPart(Pl031Rtc rtc) implements VmPart {
        @Override
        public String name() {
            return "rtc";
        }

        @Override
        public void pause(long deadlineNanos) {
            rtc.hold();
        }

        @Override
        public void resume() {
            rtc.release();
        }
    }
}
