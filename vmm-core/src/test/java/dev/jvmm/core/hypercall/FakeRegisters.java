package dev.jvmm.core.hypercall;

import dev.jvmm.kvm.RegIds;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A vCPU register file in a map, recording every write; unset registers read as 0. */
public final class FakeRegisters implements GuestRegisters {
    private final Map<Long, Long> regs = new HashMap<>();
    public final List<Long> writes = new ArrayList<>();
    public int reads;

    @Override
    public synchronized long get(long regId) {
        reads++;
        return regs.getOrDefault(regId, 0L);
    }

    @Override
    public synchronized void set(long regId, long value) {
        writes.add(regId);
        regs.put(regId, value);
    }

    /** Sets without recording (test setup). */
    public FakeRegisters with(long regId, long value) {
        regs.put(regId, value);
        return this;
    }

    public long x(int n) {
        return get(RegIds.x(n));
    }

    public long pc() {
        return get(RegIds.PC);
    }

    public long pstate() {
        return get(RegIds.PSTATE);
    }

    /** x0..x{n-1} set to distinct recognisable values 0x1000 + i, plus PC and PSTATE. */
    public FakeRegisters context(long pc, long pstate) {
        for (int i = 0; i < 31; i++) regs.put(RegIds.x(i), 0x1000L + i);
        regs.put(RegIds.PC, pc);
        regs.put(RegIds.PSTATE, pstate);
        return this;
    }

    /** Loads an SMCCC call: x0 = function ID, x1.. = args. */
    public FakeRegisters call(int functionId, long... args) {
        regs.put(RegIds.x(0), Smccc.unsigned(functionId));
        for (int i = 0; i < args.length; i++) regs.put(RegIds.x(i + 1), args[i]);
        return this;
    }

    public void clearLog() {
        writes.clear();
        reads = 0;
    }
}
