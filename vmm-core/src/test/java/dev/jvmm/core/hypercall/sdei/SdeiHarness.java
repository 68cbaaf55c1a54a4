package dev.jvmm.core.hypercall.sdei;

import dev.jvmm.core.arch.DeviceTreeInput;
import dev.jvmm.core.hypercall.FakeRegisters;
import dev.jvmm.core.hypercall.SmcccRouter;
import dev.jvmm.kvm.RegIds;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A VM's SDEI side without KVM: the dispatcher behind the router, one fake register file per vCPU,
 * and a log of the PEs the dispatcher asked to wake. A guest "call" loads x0..x5 like an HVC would
 * and leaves the PC alone (KVM already advanced it).
 */
final class SdeiHarness {
    static final long EP = 0xffff_8000_1000_0000L, EP2 = 0xffff_8000_1000_1000L, ARG = 0xA5A5;
    final SdeiDispatcher sdei;
    final SmcccRouter router;
    final FakeRegisters[] cpu;
    final List<Integer> wakes = Collections.synchronizedList(new ArrayList<>());

    SdeiHarness(int cpus, HandlerPstate pstate, SdeiEventSpec... events) {
        sdei = new SdeiDispatcher(List.of(events), DeviceTreeInput.kvmDefaultMpidrs(cpus), pstate);
        sdei.setWaker(wakes::add);
        router = SmcccRouter.builder().service(new SdeiService(sdei)).build();
        cpu = new FakeRegisters[cpus];
        for (int c = 0; c < cpus; c++)
            cpu[c] = new FakeRegisters().context(0x4000 + 0x100L * c, 0x6000_0005L);
    }

    SdeiHarness(int cpus, SdeiEventSpec... events) {
        this(cpus, HandlerPstate.PLAIN, events);
    }

    static long mpidr(int c) {
        return DeviceTreeInput.kvmDefaultMpidr(c);
    }

    /** An SDEI call from vCPU {@code c}; returns x0. */
    long call(int c, int fn, long... args) {
        FakeRegisters r = cpu[c];
        r.with(RegIds.x(0), fn & 0xffff_ffffL);
        for (int i = 0; i < 5; i++) r.with(RegIds.x(i + 1), i < args.length ? args[i] : 0);
        router.handle(c, fn, false, r);
        return r.x(0);
    }

    long register(int c, int event, long ep) {
        return call(c, Sdei.EVENT_REGISTER, event, ep, ARG, Sdei.RM_ANY, 0);
    }

    long enable(int c, int event) {
        return call(c, Sdei.EVENT_ENABLE, event);
    }

    long status(int c, int event) {
        return call(c, Sdei.EVENT_STATUS, event);
    }

    long unmask(int c) {
        return call(c, Sdei.PE_UNMASK);
    }

    /** Registers, enables and unmasks: the usual client set-up. */
    void ready(int c, int event, long ep) {
        if (register(c, event, ep) != 0 || enable(c, event) != 0 || unmask(c) != 0)
            throw new AssertionError("set-up");
    }

    /** Puts vCPU {@code c} at a recognisable point: x_i = 0x7000 + i, the given PC and PSTATE. */
    void at(int c, long pc, long pstate) {
        for (int i = 0; i < 31; i++) cpu[c].with(RegIds.x(i), 0x7000L + i);
        cpu[c].with(RegIds.PC, pc).with(RegIds.PSTATE, pstate);
    }

    long[] gprs(int c) {
        long[] x = new long[18];
        for (int i = 0; i < x.length; i++) x[i] = cpu[c].x(i);
        return x;
    }
}
