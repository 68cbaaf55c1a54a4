package dev.jvmm.core.vm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The vCPUs as the first {@link VmPart}: while the gate is closed every vCPU thread parks outside
 * KVM_RUN, after completing its pending MMIO or hypercall exit with an immediate_exit round (KVM
 * applies an MMIO read's data and the PC step only on the next KVM_RUN, so registers read before
 * that would be half an instruction). A parked thread still runs work posted to its {@link
 * VcpuMailbox} (SDEI delivery, and state reads and writes through {@link #runOnEach}); it never
 * enters the guest until the gate opens or the run stops.
 *
 * <p>A stop needs no gate: a parked thread leaves as soon as the run's {@link StopControl} stops
 * (its kick wakes the mailbox). Threads of a later boot (an in-place reboot) park on arrival while
 * the gate is closed.
 */
final class VcpuGate implements VmPart {
    private final List<VcpuMailbox> mailboxes;
    private final BooleanSupplier stopping;
    private final boolean[] parked; // guarded by this, by vCPU index
    private int parkedCount; // guarded by this
    private volatile boolean closed;

    /**
     * @param mailboxes one per vCPU, in vCPU order (their kick forces the vCPU out of KVM_RUN)
     * @param stopping true once the run is ending for good (not for a reset that reboots in place)
     */
    VcpuGate(List<VcpuMailbox> mailboxes, BooleanSupplier stopping) {
        this.mailboxes = List.copyOf(mailboxes);
        this.stopping = stopping;
        this.parked = new boolean[mailboxes.size()];
    }

    @Override
    public String name() {
        return "vcpus";
    }

    /** Whether vCPU threads must park (read by them before each KVM_RUN). */
    boolean isClosed() {
        return closed;
    }

    /**
     * Closes the gate, kicks every vCPU and waits until each thread has parked. A vCPU that does
     * not come out of KVM_RUN in time (a host-side hang: the kick's signal ends KVM_RUN whatever
     * the guest does) fails the pause by name and the gate opens again.
     */
    @Override
    public void pause(long deadlineNanos) throws PauseException {
        closed = true;
        mailboxes.forEach(VcpuMailbox::kick);
        try {
            synchronized (this) {
                while (parkedCount < parked.length && !stopping.getAsBoolean()) {
                    long left = deadlineNanos - System.nanoTime();
                    if (left <= 0) break;
                    // a stop does not notify this monitor: look again every few milliseconds
                    wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 20)));
                }
                if (parkedCount == parked.length && !stopping.getAsBoolean()) return;
            }
        } catch (InterruptedException e) {
            resume();
            Thread.currentThread().interrupt();
            throw new PauseException("interrupted while waiting for the vCPUs");
        }
        String missing = stopping.getAsBoolean() ? null : notParked();
        resume();
        if (missing == null) throw new PauseException("the VM is stopping");
        throw new PauseException(
                (missing.isEmpty() ? "a vCPU" : missing) + " did not leave KVM_RUN", true);
    }

    @Override
    public void resume() {
        closed = false;
        mailboxes.forEach(VcpuMailbox::wake);
    }

    private synchronized String notParked() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < parked.length; i++) if (!parked[i]) names.add("vcpu" + i);
        return String.join(", ", names);
    }

    /**
     * Runs {@code work} on every parked vCPU's own thread (in parallel, one call per vCPU, with
     * that vCPU's registers) and waits for all of them; only while paused. The way the state of a
     * parked vCPU is read and written (registers, the guest counter; later a snapshot).
     *
     * @throws PauseException when the gate is open, or a vCPU did not run the work by the deadline
     */
    void runOnEach(Consumer<ExitDispatcher.VcpuRegisters> work, long deadlineNanos)
            throws PauseException {
        if (!closed) throw new PauseException("the vCPUs are not paused");
        CountDownLatch done = new CountDownLatch(mailboxes.size());
        RuntimeException[] failure = new RuntimeException[1];
        // work that missed its deadline must not run later, e.g. a stale counter write after resume
        AtomicBoolean cancelled = new AtomicBoolean();
        for (VcpuMailbox m : mailboxes) {
            m.post(
                    regs -> {
                        try {
                            if (!cancelled.get()) work.accept(regs);
                        } catch (RuntimeException e) {
                            synchronized (failure) {
                                if (failure[0] == null) failure[0] = e;
                            }
                        } finally {
                            done.countDown();
                        }
                    });
        }
        try {
            long left = deadlineNanos - System.nanoTime();
            if (!done.await(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                cancelled.set(true);
                throw new PauseException("a parked vCPU did not run its work", true);
            }
        } catch (InterruptedException e) {
            cancelled.set(true);
            Thread.currentThread().interrupt();
            throw new PauseException("interrupted while waiting for the vCPUs");
        }
        synchronized (failure) {
            if (failure[0] != null) throw new PauseException(failure[0].getMessage());
        }
    }

    /**
     * On vCPU thread {@code cpu}, outside KVM_RUN with no exit pending: waits while the gate is
     * closed, running posted work as it comes, until the gate opens or {@code stopped} turns true
     * (a stop wakes the mailbox).
     */
    void park(
            int cpu,
            VcpuMailbox mailbox,
            ExitDispatcher.VcpuRegisters regs,
            BooleanSupplier stopped)
            throws InterruptedException {
        arrive(cpu);
        try {
            while (closed && !stopped.getAsBoolean()) {
                if (!mailbox.isEmpty()) mailbox.drain(regs);
                else mailbox.awaitWork(() -> closed && !stopped.getAsBoolean());
            }
        } finally {
            leave(cpu);
        }
    }

    private synchronized void arrive(int cpu) {
        if (!parked[cpu]) parkedCount++;
        parked[cpu] = true;
        notifyAll();
    }

    private synchronized void leave(int cpu) {
        if (parked[cpu]) parkedCount--;
        parked[cpu] = false;
    }
}
