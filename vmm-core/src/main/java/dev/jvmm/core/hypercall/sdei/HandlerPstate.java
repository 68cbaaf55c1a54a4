package dev.jvmm.core.hypercall.sdei;

/**
 * The PSTATE an SDEI handler (and a COMPLETE_AND_RESUME target) starts with: EL1h with D, A, I, F
 * masked (0x3C5), adjusted the way AArch64.TakeException does and TF-A's {@code sdei_set_elr_spsr}
 * copies: PAN set when the guest has PAN and SCTLR_EL1.SPAN is 0 (else kept from the interrupted
 * PSTATE), SSBS from SCTLR_EL1.DSSBS when the guest has SSBS, TCO set when it has MTE, DIT kept.
 *
 * @param pan ID_AA64MMFR1_EL1.PAN is non-zero
 * @param ssbs ID_AA64PFR1_EL1.SSBS is non-zero
 * @param mte ID_AA64PFR1_EL1.MTE is 2 or more (MTE at EL0/EL1)
 */
public record HandlerPstate(boolean pan, boolean ssbs, boolean mte) {
    /**
     * M[3:0] = EL1h (0b0101) and DAIF = 0b1111: TF-A's SPSR_64(EL1, SP_ELx,
     * DISABLE_ALL_EXCEPTIONS).
     */
    public static final long EL1H_DAIF_MASKED = 0x3C5;

    public static final long PSTATE_SSBS = 1L << 12,
            PSTATE_PAN = 1L << 22,
            PSTATE_DIT = 1L << 24,
            PSTATE_TCO = 1L << 25;
    public static final long SCTLR_SPAN = 1L << 23, SCTLR_DSSBS = 1L << 44;

    /** A guest CPU without PAN, SSBS or MTE: handlers start at exactly 0x3C5 (plus a kept DIT). */
    public static final HandlerPstate PLAIN = new HandlerPstate(false, false, false);

    public static HandlerPstate fromIdRegisters(long idAa64Mmfr1, long idAa64Pfr1) {
        return new HandlerPstate(
                ((idAa64Mmfr1 >>> 20) & 0xf) != 0,
                ((idAa64Pfr1 >>> 4) & 0xf) != 0,
                ((idAa64Pfr1 >>> 8) & 0xf) >= 2);
    }

    /** Whether {@link #entry} looks at SCTLR_EL1 (saves a register read per delivery when not). */
    public boolean needsSctlr() {
        return pan || ssbs;
    }

    public long entry(long interrupted, long sctlr) {
        long p = EL1H_DAIF_MASKED;
        if (pan && (sctlr & SCTLR_SPAN) == 0) p |= PSTATE_PAN;
        else p |= interrupted & PSTATE_PAN;
        if (ssbs && (sctlr & SCTLR_DSSBS) != 0) p |= PSTATE_SSBS;
        if (mte) p |= PSTATE_TCO;
        return p | (interrupted & PSTATE_DIT);
    }
}
