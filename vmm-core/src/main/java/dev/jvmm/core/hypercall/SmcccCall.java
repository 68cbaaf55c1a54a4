package dev.jvmm.core.hypercall;

import dev.jvmm.kvm.RegIds;

/**
 * One forwarded SMCCC call as a service sees it: the function ID, the calling vCPU and lazy access
 * to its argument registers (each read is a KVM_GET_ONE_REG, so only the arguments a call uses are
 * read).
 */
public final class SmcccCall {
    private final int cpu;
    private final int functionId;
    private final boolean smc;
    private final GuestRegisters registers;

    public SmcccCall(int cpu, int functionId, boolean smc, GuestRegisters registers) {
        this.cpu = cpu;
        this.functionId = functionId;
        this.smc = smc;
        this.registers = registers;
    }

    /** Index of the calling vCPU. */
    public int cpu() {
        return cpu;
    }

    public int functionId() {
        return functionId;
    }

    /** True when the guest used SMC rather than HVC (KVM forwards both). */
    public boolean smc() {
        return smc;
    }

    /**
     * Argument register x{@code n} (1..17). For SMC32 calls only the low 32 bits are defined
     * (SMCCC: "the upper 32 bits are ignored"), so they are cleared here.
     */
    public long arg(int n) {
        if (n < 1 || n >= Smccc.MAX_REGS)
            throw new IllegalArgumentException("SMCCC argument x" + n);
        long v = registers.get(RegIds.x(n));
        return Smccc.is64(functionId) ? v : v & 0xffff_ffffL;
    }

    /** The whole register file, for services that switch the vCPU's context (SDEI). */
    public GuestRegisters registers() {
        return registers;
    }

    @Override
    public String toString() {
        return Smccc.hex(functionId) + " from vcpu " + cpu + (smc ? " (SMC)" : "");
    }
}
