package dev.jvmm.core.hypercall.sdei;

import dev.jvmm.core.hypercall.GuestRegisters;
import dev.jvmm.kvm.RegIds;

/**
 * The register side of SDEI delivery, as TF-A does it for a non-secure client: save x0..x17, PC and
 * PSTATE of the interrupted context, enter the handler, restore, or restore and "take an exception"
 * to a resume address. Registers outside x0..x17/PC/PSTATE (and ELR/SPSR_EL1 at dispatch) are the
 * client's to preserve, as the specification says.
 */
final class SdeiContext {
    private SdeiContext() {}

    /** The interrupted context of one outstanding dispatch. */
    @SuppressWarnings(
            "ArrayRecordComponent") // registers read back by index, a Saved is never compared
    record Saved(long[] x, long pc, long pstate) {
        long reg(int n) {
            return x[n];
        }
    }

    static Saved save(GuestRegisters r) {
        long[] x = new long[Sdei.SAVED_GPREGS];
        for (int i = 0; i < x.length; i++) x[i] = r.get(RegIds.x(i));
        return new Saved(x, r.get(RegIds.PC), r.get(RegIds.PSTATE));
    }

    /**
     * x0 = event, x1 = argument, x2 = interrupted PC, x3 = interrupted PSTATE; PC = entry point.
     */
    static void enter(
            GuestRegisters r,
            int event,
            long argument,
            Saved interrupted,
            long entryPoint,
            long pstate) {
        r.set(RegIds.x(0), event);
        r.set(RegIds.x(1), argument);
        r.set(RegIds.x(2), interrupted.pc());
        r.set(RegIds.x(3), interrupted.pstate());
        r.set(RegIds.PSTATE, pstate);
        r.set(RegIds.PC, entryPoint);
    }

    /** EVENT_COMPLETE: the interrupted context exactly as it was. */
    static void restore(GuestRegisters r, Saved s) {
        restoreGprs(r, s);
        r.set(RegIds.PSTATE, s.pstate());
        r.set(RegIds.PC, s.pc());
    }

    /**
     * EVENT_COMPLETE_AND_RESUME: the interrupted x0..x17, then an exception taken to {@code
     * resumeAddress}: ELR_EL1 = interrupted PC, SPSR_EL1 = interrupted PSTATE.
     */
    static void resume(GuestRegisters r, Saved s, long resumeAddress, long pstate) {
        restoreGprs(r, s);
        r.set(RegIds.ELR_EL1, s.pc());
        r.set(RegIds.spsr(0), s.pstate());
        r.set(RegIds.PSTATE, pstate);
        r.set(RegIds.PC, resumeAddress);
    }

    private static void restoreGprs(GuestRegisters r, Saved s) {
        for (int i = 0; i < Sdei.SAVED_GPREGS; i++) r.set(RegIds.x(i), s.reg(i));
    }
}
