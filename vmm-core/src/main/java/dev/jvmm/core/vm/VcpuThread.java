package dev.jvmm.core.vm;

import dev.jvmm.kvm.KvmRunLayout;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;

/**
 * One vCPU's run loop on its own platform thread (a native call would pin a virtual thread's
 * carrier). Between two KVM_RUN calls it runs the work other threads posted to its {@link
 * VcpuMailbox}, after completing a pending MMIO or hypercall exit. Any exception ends the VM with a
 * VMM error rather than leaving a silent dead vCPU.
 *
 * <p>An MMIO or hypercall exit allocates nothing on this thread: the exit reason is an int, its
 * details are read in place from the vCPU's {@code kvm_run}, MMIO data goes through this vCPU's
 * {@link MmioBuffers}, and register accesses reuse the vCPU's preallocated ONE_REG struct.
 */
final class VcpuThread implements Runnable {
    private static final System.Logger LOG = System.getLogger("jvmm.vcpu");

    private final Vcpu vcpu;
    private final ExitDispatcher dispatcher;
    private final StopControl control;
    private final VcpuMailbox mailbox;
    private final VcpuGate gate;
    private final ExitDispatcher.VcpuRegisters regs;
    private final MemorySegment run;
    private final MmioBuffers buffers = new MmioBuffers();

    /** The last exit is one KVM finishes only on the next KVM_RUN (api.rst, KVM_RUN). */
    private boolean exitPending;

    VcpuThread(
            Vcpu vcpu,
            ExitDispatcher dispatcher,
            StopControl control,
            VcpuMailbox mailbox,
            VcpuGate gate) {
        this.vcpu = vcpu;
        this.gate = gate;
        this.dispatcher = dispatcher;
        this.control = control;
        this.mailbox = mailbox;
        this.run = vcpu.runStructure();
        this.regs =
                new ExitDispatcher.VcpuRegisters() {
                    @Override
                    public int cpu() {
                        return vcpu.id();
                    }

                    @Override
                    public long get(long regId) {
                        return vcpu.getOneReg(regId);
                    }

                    @Override
                    public void set(long regId, long value) {
                        vcpu.setOneReg(regId, value);
                    }
                };
    }

    static Thread start(
            Vcpu vcpu,
            ExitDispatcher dispatcher,
            StopControl control,
            VcpuMailbox mailbox,
            VcpuGate gate) {
        return Thread.ofPlatform()
                .name("vcpu" + vcpu.id())
                .daemon(true)
                .start(new VcpuThread(vcpu, dispatcher, control, mailbox, gate));
    }

    @Override
    public void run() {
        try {
            vcpu.bindToCurrentThread();
            while (!control.isStopped()) {
                boolean hold = gate.isClosed();
                if (hold || !mailbox.isEmpty()) {
                    // the exit is finished first: work and a pause both see whole instructions
                    if (exitPending) completePendingExit();
                    else if (!mailbox.isEmpty()) mailbox.drain(regs);
                    else gate.park(vcpu.id(), mailbox, regs, control::isStopped);
                    continue;
                }
                handle(vcpu.runForReason());
            }
        } catch (Throwable t) {
            LOG.log(Level.DEBUG, "vcpu " + vcpu.id() + " failed", t);
            control.stop(
                    VmResult.of(
                            VmResult.Reason.ERROR,
                            "vcpu " + vcpu.id() + ": " + t.getMessage() + describePc()));
        } finally {
            vcpu.unbindFromCurrentThread();
        }
    }

    private void handle(int reason) {
        exitPending = reason == KvmRunLayout.EXIT_MMIO || reason == KvmRunLayout.EXIT_HYPERCALL;
        ExitDispatcher.Action action = dispatcher.handle(reason, run, buffers, regs);
        if (action instanceof ExitDispatcher.Action.Stop s) control.stop(s.result());
    }

    /**
     * Re-enters KVM_RUN with immediate_exit set: KVM finishes the exit (an MMIO read's register,
     * the PC step) and returns EINTR without running a guest instruction. Any other exit is handled
     * as usual.
     */
    private void completePendingExit() {
        vcpu.kick(); // from the bound thread: only sets immediate_exit
        int reason = vcpu.runForReason();
        if (reason == KvmRunLayout.EXIT_INTR) exitPending = false;
        else handle(reason);
    }

    private String describePc() {
        try {
            return String.format(" (pc 0x%x)", vcpu.getOneReg(RegIds.PC));
        } catch (RuntimeException e) {
            return "";
        }
    }
}
