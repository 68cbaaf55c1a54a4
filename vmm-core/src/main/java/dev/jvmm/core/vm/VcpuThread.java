package dev.jvmm.core.vm;

import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.VcpuExit;

import java.lang.System.Logger.Level;

/**
 * One vCPU's run loop on its own platform thread (a native call would pin a virtual thread's carrier).
 * Any exception ends the VM with a VMM error rather than leaving a silent dead vCPU.
 */
final class VcpuThread implements Runnable {
    private static final System.Logger LOG = System.getLogger("jvmm.vcpu");

    private final Vcpu vcpu;
    private final ExitDispatcher dispatcher;
    private final StopControl control;
    private final ExitDispatcher.VcpuRegisters regs;

    VcpuThread(Vcpu vcpu, ExitDispatcher dispatcher, StopControl control) {
        this.vcpu = vcpu;
        this.dispatcher = dispatcher;
        this.control = control;
        this.regs = new ExitDispatcher.VcpuRegisters() {
            @Override public long get(long regId) { return vcpu.getOneReg(regId); }
            @Override public void set(long regId, long value) { vcpu.setOneReg(regId, value); }
        };
    }

    static Thread start(Vcpu vcpu, ExitDispatcher dispatcher, StopControl control) {
        return Thread.ofPlatform().name("vcpu" + vcpu.id()).daemon(true)
                .start(new VcpuThread(vcpu, dispatcher, control));
    }

    @Override
    public void run() {
        try {
            vcpu.bindToCurrentThread();
            while (!control.isStopped()) {
                VcpuExit exit = vcpu.run();
                ExitDispatcher.Action action = dispatcher.handle(exit, regs);
                if (action instanceof ExitDispatcher.Action.Stop s) {
                    control.stop(s.result());
                }
            }
        } catch (Throwable t) {
            LOG.log(Level.DEBUG, "vcpu " + vcpu.id() + " failed", t);
            control.stop(VmResult.of(VmResult.Reason.ERROR, "vcpu " + vcpu.id() + ": " + t.getMessage()
                    + describePc()));
        } finally {
            vcpu.unbindFromCurrentThread();
        }
    }

    private String describePc() {
        try {
            return String.format(" (pc 0x%x)", vcpu.getOneReg(RegIds.PC));
        } catch (RuntimeException e) {
            return "";
        }
    }
}
