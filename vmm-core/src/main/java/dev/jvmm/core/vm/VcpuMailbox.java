package dev.jvmm.core.vm;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * Work other threads hand to one vCPU, run on that vCPU's own thread between two KVM_RUN calls with
 * its registers (SDEI delivery; later snapshots). Posting kicks the vCPU out of KVM_RUN, including
 * out of a WFI it is blocked in; the vCPU thread completes any pending MMIO/hypercall exit before
 * it runs the work (KVM applies an MMIO read's data and the PC step only on the next KVM_RUN). One
 * mailbox per vCPU for the VM's life: work posted while no vCPU thread runs (between reboots) waits
 * for the next one.
 */
public final class VcpuMailbox {
    private final ConcurrentLinkedQueue<Consumer<ExitDispatcher.VcpuRegisters>> queue =
            new ConcurrentLinkedQueue<>();
    private final Runnable kick;

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
