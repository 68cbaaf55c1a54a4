package dev.jvmm.core.vm;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Work other threads hand to one vCPU, run on that vCPU's own thread between two KVM_RUN calls with
 * its registers (SDEI delivery; later snapshots). Posting kicks the vCPU out of KVM_RUN, including
 * out of a WFI it is blocked in; the vCPU thread completes any pending MMIO/hypercall exit before
 * it runs the work (KVM applies an MMIO read's data and the PC step only on the next KVM_RUN). One
 * mailbox per vCPU for the VM's life: work posted while no vCPU thread runs (between reboots) waits
 * for the next one.
 *
 * <p>While the machine is paused the vCPU thread is parked outside KVM_RUN and waits on this
 * mailbox ({@link #awaitWork}); posted work still runs there, at once, without the guest running.
 * That is how state is read and written on a parked vCPU.
 */
public final class VcpuMailbox {
    private final ConcurrentLinkedQueue<Consumer<ExitDispatcher.VcpuRegisters>> queue =
            new ConcurrentLinkedQueue<>();
    private final Runnable kick;

    private static final long WAKE_CHECK_MILLIS = 200;

    /**
     * @param kick forces the vCPU out of KVM_RUN soon (Vcpu::kick)
     */
    public VcpuMailbox(Runnable kick) {
        this.kick = kick;
    }

    /** Queues {@code work} and kicks the vCPU; safe from any thread. */
    public void post(Consumer<ExitDispatcher.VcpuRegisters> work) {
        queue.add(work);
        kick.run();
        wake();
    }

    /** Forces the vCPU out of KVM_RUN soon (see {@link VcpuGate}). */
    void kick() {
        kick.run();
    }

    /** Wakes a parked vCPU thread so it looks at its mailbox and at why it is parked. */
    synchronized void wake() {
        notifyAll();
    }

    /**
     * On the parked vCPU thread: waits until work is posted, {@link #wake} is called or {@code
     * stillParked} turns false (whoever changes it calls {@link #wake}). The timed wait only bounds
     * the cost of a missed wake; nothing relies on it.
     */
    synchronized void awaitWork(BooleanSupplier stillParked) throws InterruptedException {
        long end = System.nanoTime() + WAKE_CHECK_MILLIS * 1_000_000;
        while (queue.isEmpty() && stillParked.getAsBoolean()) {
            long left = (end - System.nanoTime()) / 1_000_000;
            if (left <= 0) return;
            wait(left);
        }
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /** Runs everything queued so far on the calling (vCPU) thread; returns how many ran. */
    int drain(ExitDispatcher.VcpuRegisters regs) {
        int n = 0;
        for (Consumer<ExitDispatcher.VcpuRegisters> w; (w = queue.poll()) != null; n++)
            w.accept(regs);
        return n;
    }
}
