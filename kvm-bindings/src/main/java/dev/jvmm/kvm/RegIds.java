package dev.jvmm.kvm;

import dev.jvmm.kvm.uapi.KvmUapi;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * KVM_{GET,SET}_ONE_REG register ids for arm64: the function-like macros of {@code asm/kvm.h} that
 * jextract cannot generate, plus a name lookup for the CLI.
 *
 * <p>Every helper is checked against the C macros by {@code BindingsMatchCompilerTest}
 * (aarch64-linux-gnu-gcc on the same uapi headers the bindings were generated from).
 */
public final class RegIds {
    private RegIds() {}

    // ---- KVM_REG_SIZE / core registers
    // ------------------------------------------------------------

    /** {@code KVM_REG_SIZE(id)}: the register's size in bytes, from the id's size field. */
    public static int size(long id) {
        return 1 << ((id & KvmUapi.KVM_REG_SIZE_MASK()) >>> KvmUapi.KVM_REG_SIZE_SHIFT());
    }

    /**
     * Offsets into {@code struct kvm_regs} (asm/kvm.h): {@code struct user_pt_regs regs} (x0..x30,
     * sp, pc, pstate: 34 u64), {@code sp_el1}, {@code elr_el1}, {@code spsr[KVM_NR_SPSR]}, then
     * {@code struct user_fpsimd_state fp_regs} 16-byte aligned (32 128-bit vregs, fpsr, fpcr).
     * Written out rather than asked of the generated layout: its path lookups spin ~30
     * method-handle classes on first use, ~0.3 s of a start in the lab (issue 12). {@code
     * RegIdsOffsetsTest} checks each against the generated {@code kvm_regs} layout, {@code
     * BindingsMatchCompilerTest} the ids against the C macros.
     */
    static final long REGS = 0,
            SP_OFFSET = 31 * 8,
            PC_OFFSET = 32 * 8,
            PSTATE_OFFSET = 33 * 8,
            SP_EL1_OFFSET = 34 * 8,
            ELR_EL1_OFFSET = 35 * 8,
            SPSR_OFFSET = 36 * 8,
            FP_REGS_OFFSET = 336,
            FPSR_OFFSET = FP_REGS_OFFSET + 32 * 16,
            FPCR_OFFSET = FPSR_OFFSET + 4,
            KVM_REGS_SIZE = FPCR_OFFSET + 4 + 2 * 4;

    /**
     * {@code KVM_REG_ARM64 | sizeFlag | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(x)}, given
     * offsetof(kvm_regs, x).
     */
    public static long coreReg(long sizeFlag, long kvmRegsOffset) {
        if (kvmRegsOffset < 0 || kvmRegsOffset % 4 != 0 || kvmRegsOffset >= KVM_REGS_SIZE) {
            throw new IllegalArgumentException("bad offset into struct kvm_regs: " + kvmRegsOffset);
        }
        return KvmUapi.KVM_REG_ARM64()
                | sizeFlag
                | KvmUapi.KVM_REG_ARM_CORE()
                | (kvmRegsOffset / 4);
    }

    private static long core64(long offset) {
        return coreReg(KvmUapi.KVM_REG_SIZE_U64(), offset);
    }

    /** General purpose register x{@code n} (0..30): {@code regs.regs[n]}. */
    public static long x(int n) {
        check("x", n, 31);
        return X[n];
    }

    /** x0..x30, computed once: hypercall services ask for them on every call. */
    private static final long[] X = new long[31];

    static {
        for (int n = 0; n < X.length; n++) X[n] = core64(REGS + 8L * n);
    }

    /** SP_EL0 ({@code regs.sp}). */
    public static final long SP = core64(SP_OFFSET);

    /** PC ({@code regs.pc}). */
    public static final long PC = core64(PC_OFFSET);

    /** PSTATE ({@code regs.pstate}, 64-bit id like kvmtool/QEMU use). */
    public static final long PSTATE = core64(PSTATE_OFFSET);

    /** SP_EL1 ({@code sp_el1}). */
    public static final long SP_EL1 = core64(SP_EL1_OFFSET);

    /** ELR_EL1 ({@code elr_el1}). */
    public static final long ELR_EL1 = core64(ELR_EL1_OFFSET);

    /** {@code spsr[n]}, n = KVM_SPSR_EL1 (0) .. KVM_NR_SPSR - 1. */
    public static long spsr(int n) {
        check("spsr", n, KvmUapi.KVM_NR_SPSR());
        return core64(SPSR_OFFSET + 8L * n);
    }

    /**
     * FP/SIMD register v{@code n} (0..31), 128 bits: {@code fp_regs.vregs[n]}. jextract skips
     * {@code __uint128_t vregs[32]} (it becomes padding), so the offset is computed here:
     * offsetof(kvm_regs, fp_regs) + 16n = 336 + 16n.
     */
    public static long vreg(int n) {
        check("v", n, 32);
        return coreReg(KvmUapi.KVM_REG_SIZE_U128(), FP_REGS_OFFSET + 16L * n);
    }

    /** FPSR ({@code fp_regs.fpsr}, 32-bit). */
    public static final long FPSR = coreReg(KvmUapi.KVM_REG_SIZE_U32(), FPSR_OFFSET);

    /** FPCR ({@code fp_regs.fpcr}, 32-bit). */
    public static final long FPCR = coreReg(KvmUapi.KVM_REG_SIZE_U32(), FPCR_OFFSET);

    // ---- system registers
    // --------------------------------------------------------------------------

    /** {@code ARM64_SYS_REG(op0, op1, crn, crm, op2)} (64-bit system register id). */
    public static long sysReg(int op0, int op1, int crn, int crm, int op2) {
        return KvmUapi.KVM_REG_ARM64()
                | KvmUapi.KVM_REG_ARM64_SYSREG()
                | shiftMask(
                        op0,
                        KvmUapi.KVM_REG_ARM64_SYSREG_OP0_SHIFT(),
                        KvmUapi.KVM_REG_ARM64_SYSREG_OP0_MASK())
                | shiftMask(
                        op1,
                        KvmUapi.KVM_REG_ARM64_SYSREG_OP1_SHIFT(),
                        KvmUapi.KVM_REG_ARM64_SYSREG_OP1_MASK())
                | shiftMask(
                        crn,
                        KvmUapi.KVM_REG_ARM64_SYSREG_CRN_SHIFT(),
                        KvmUapi.KVM_REG_ARM64_SYSREG_CRN_MASK())
                | shiftMask(
                        crm,
                        KvmUapi.KVM_REG_ARM64_SYSREG_CRM_SHIFT(),
                        KvmUapi.KVM_REG_ARM64_SYSREG_CRM_MASK())
                | shiftMask(
                        op2,
                        KvmUapi.KVM_REG_ARM64_SYSREG_OP2_SHIFT(),
                        KvmUapi.KVM_REG_ARM64_SYSREG_OP2_MASK())
                | KvmUapi.KVM_REG_SIZE_U64();
    }

    private static long shiftMask(long x, int shift, long mask) {
        return (x << shift) & mask;
    }

    public static final long MIDR_EL1 = sysReg(3, 0, 0, 0, 0);
    public static final long MPIDR_EL1 = sysReg(3, 0, 0, 0, 5);
    public static final long REVIDR_EL1 = sysReg(3, 0, 0, 0, 6);
    public static final long ID_AA64PFR0_EL1 = sysReg(3, 0, 0, 4, 0);
    public static final long ID_AA64PFR1_EL1 = sysReg(3, 0, 0, 4, 1);
    public static final long ID_AA64DFR0_EL1 = sysReg(3, 0, 0, 5, 0);
    public static final long ID_AA64ISAR0_EL1 = sysReg(3, 0, 0, 6, 0);
    public static final long ID_AA64ISAR1_EL1 = sysReg(3, 0, 0, 6, 1);
    public static final long ID_AA64MMFR0_EL1 = sysReg(3, 0, 0, 7, 0);
    public static final long ID_AA64MMFR1_EL1 = sysReg(3, 0, 0, 7, 1);
    public static final long ID_AA64MMFR2_EL1 = sysReg(3, 0, 0, 7, 2);
    public static final long SCTLR_EL1 = sysReg(3, 0, 1, 0, 0);
    public static final long CPACR_EL1 = sysReg(3, 0, 1, 0, 2);
    public static final long TTBR0_EL1 = sysReg(3, 0, 2, 0, 0);
    public static final long TTBR1_EL1 = sysReg(3, 0, 2, 0, 1);
    public static final long TCR_EL1 = sysReg(3, 0, 2, 0, 2);
    public static final long ESR_EL1 = sysReg(3, 0, 5, 2, 0);
    public static final long FAR_EL1 = sysReg(3, 0, 6, 0, 0);
    public static final long PAR_EL1 = sysReg(3, 0, 7, 4, 0);
    public static final long MAIR_EL1 = sysReg(3, 0, 10, 2, 0);
    public static final long VBAR_EL1 = sysReg(3, 0, 12, 0, 0);
    public static final long CONTEXTIDR_EL1 = sysReg(3, 0, 13, 0, 1);
    public static final long TPIDR_EL1 = sysReg(3, 0, 13, 0, 4);
    public static final long CNTKCTL_EL1 = sysReg(3, 0, 14, 1, 0);
    public static final long TPIDR_EL0 = sysReg(3, 3, 13, 0, 2);
    public static final long TPIDRRO_EL0 = sysReg(3, 3, 13, 0, 3);
    public static final long CNTFRQ_EL0 = sysReg(3, 3, 14, 0, 0);

    /**
     * Virtual counter: KVM's {@code KVM_REG_ARM_TIMER_CNT} = ARM64_SYS_REG(3,3,14,3,2). Its
     * encoding was accidentally swapped with CNTV_CVAL_EL0 in the KVM ABI; the ABI value is what
     * KVM accepts.
     */
    public static final long CNTVCT_EL0 = sysReg(3, 3, 14, 3, 2);

    /**
     * {@code KVM_REG_ARM_TIMER_CVAL} = ARM64_SYS_REG(3,3,14,0,2) (swapped with CNTVCT_EL0, see
     * there).
     */
    public static final long CNTV_CVAL_EL0 = sysReg(3, 3, 14, 0, 2);

    /** {@code KVM_REG_ARM_TIMER_CTL}. */
    public static final long CNTV_CTL_EL0 = sysReg(3, 3, 14, 3, 1);

    /** {@code KVM_REG_ARM_PTIMER_CNT}. */
    public static final long CNTPCT_EL0 = sysReg(3, 3, 14, 0, 1);

    /** {@code KVM_REG_ARM_PTIMER_CTL}. */
    public static final long CNTP_CTL_EL0 = sysReg(3, 3, 14, 2, 1);

    /** {@code KVM_REG_ARM_PTIMER_CVAL}. */
    public static final long CNTP_CVAL_EL0 = sysReg(3, 3, 14, 2, 2);

    // ---- firmware pseudo-registers
    // -----------------------------------------------------------------

    /** {@code KVM_REG_ARM_FW_REG(r)}: 0 = PSCI version, 1..3 = SMCCC_ARCH_WORKAROUND_1..3. */
    public static long fwReg(int r) {
        return KvmUapi.KVM_REG_ARM64()
                | KvmUapi.KVM_REG_SIZE_U64()
                | KvmUapi.KVM_REG_ARM_FW()
                | (r & 0xffff);
    }

    /**
     * {@code KVM_REG_ARM_FW_FEAT_BMAP_REG(r)}: 0 = STD, 1 = STD_HYP, 2 = VENDOR_HYP, 3 =
     * VENDOR_HYP_2.
     */
    public static long fwFeatBmapReg(int r) {
        return KvmUapi.KVM_REG_ARM64()
                | KvmUapi.KVM_REG_SIZE_U64()
                | KvmUapi.KVM_REG_ARM_FW_FEAT_BMAP()
                | (r & 0xffff);
    }

    public static final long PSCI_VERSION = fwReg(0);
    public static final long SMCCC_ARCH_WORKAROUND_1 = fwReg(1);
    public static final long SMCCC_ARCH_WORKAROUND_2 = fwReg(2);
    public static final long SMCCC_ARCH_WORKAROUND_3 = fwReg(3);
    public static final long STD_BMAP = fwFeatBmapReg(0);
    public static final long STD_HYP_BMAP = fwFeatBmapReg(1);
    public static final long VENDOR_HYP_BMAP = fwFeatBmapReg(2);

    /**
     * {@code KVM_REG_ARM_VENDOR_HYP_BMAP_2} (Linux 6.16+; not in the 6.12 headers the bindings
     * use).
     */
    public static final long VENDOR_HYP_BMAP_2 = fwFeatBmapReg(3);

    // ---- SVE
    // ----------------------------------------------------------------------------------------

    /**
     * {@code KVM_REG_ARM64_SVE_ZREG(n, i)}: slice {@code i} of Z register {@code n} (2048-bit id).
     */
    public static long sveZReg(int n, int i) {
        return KvmUapi.KVM_REG_ARM64()
                | KvmUapi.KVM_REG_ARM64_SVE()
                | KvmUapi.KVM_REG_ARM64_SVE_ZREG_BASE()
                | KvmUapi.KVM_REG_SIZE_U2048()
                | ((long) (n & (KvmUapi.KVM_ARM64_SVE_NUM_ZREGS() - 1)) << 5)
                | (i & (KvmUapi.KVM_ARM64_SVE_MAX_SLICES() - 1));
    }

    /**
     * {@code KVM_REG_ARM64_SVE_PREG(n, i)}: slice {@code i} of predicate register {@code n}
     * (256-bit id).
     */
    public static long svePReg(int n, int i) {
        return KvmUapi.KVM_REG_ARM64()
                | KvmUapi.KVM_REG_ARM64_SVE()
                | KvmUapi.KVM_REG_ARM64_SVE_PREG_BASE()
                | KvmUapi.KVM_REG_SIZE_U256()
                | ((long) (n & (KvmUapi.KVM_ARM64_SVE_NUM_PREGS() - 1)) << 5)
                | (i & (KvmUapi.KVM_ARM64_SVE_MAX_SLICES() - 1));
    }

    /**
     * {@code KVM_REG_ARM64_SVE_FFR(i)}: slice {@code i} of the first-fault register (256-bit id).
     */
    public static long sveFfr(int i) {
        return KvmUapi.KVM_REG_ARM64()
                | KvmUapi.KVM_REG_ARM64_SVE()
                | KvmUapi.KVM_REG_ARM64_SVE_FFR_BASE()
                | KvmUapi.KVM_REG_SIZE_U256()
                | (i & (KvmUapi.KVM_ARM64_SVE_MAX_SLICES() - 1));
    }

    // ---- names
    // --------------------------------------------------------------------------------------

    private static final String[] SPSR_NAMES = {
        "spsr_el1", "spsr_abt", "spsr_und", "spsr_irq", "spsr_fiq"
    };

    private static final Map<String, Long> NAMES;
    private static final Map<Long, String> BY_ID;

    static {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int n = 0; n <= 30; n++) m.put("x" + n, x(n));
        m.put("sp", SP);
        m.put("pc", PC);
        m.put("pstate", PSTATE);
        m.put("sp_el1", SP_EL1);
        m.put("elr_el1", ELR_EL1);
        for (int n = 0; n < SPSR_NAMES.length; n++) m.put(SPSR_NAMES[n], spsr(n));
        for (int n = 0; n < 32; n++) m.put("v" + n, vreg(n));
        m.put("fpsr", FPSR);
        m.put("fpcr", FPCR);
        m.put("midr_el1", MIDR_EL1);
        m.put("mpidr_el1", MPIDR_EL1);
        m.put("revidr_el1", REVIDR_EL1);
        m.put("id_aa64pfr0_el1", ID_AA64PFR0_EL1);
        m.put("id_aa64pfr1_el1", ID_AA64PFR1_EL1);
        m.put("id_aa64dfr0_el1", ID_AA64DFR0_EL1);
        m.put("id_aa64isar0_el1", ID_AA64ISAR0_EL1);
        m.put("id_aa64isar1_el1", ID_AA64ISAR1_EL1);
        m.put("id_aa64mmfr0_el1", ID_AA64MMFR0_EL1);
        m.put("id_aa64mmfr1_el1", ID_AA64MMFR1_EL1);
        m.put("id_aa64mmfr2_el1", ID_AA64MMFR2_EL1);
        m.put("sctlr_el1", SCTLR_EL1);
        m.put("cpacr_el1", CPACR_EL1);
        m.put("ttbr0_el1", TTBR0_EL1);
        m.put("ttbr1_el1", TTBR1_EL1);
        m.put("tcr_el1", TCR_EL1);
        m.put("esr_el1", ESR_EL1);
        m.put("far_el1", FAR_EL1);
        m.put("par_el1", PAR_EL1);
        m.put("mair_el1", MAIR_EL1);
        m.put("vbar_el1", VBAR_EL1);
        m.put("contextidr_el1", CONTEXTIDR_EL1);
        m.put("tpidr_el1", TPIDR_EL1);
        m.put("cntkctl_el1", CNTKCTL_EL1);
        m.put("tpidr_el0", TPIDR_EL0);
        m.put("tpidrro_el0", TPIDRRO_EL0);
        m.put("cntfrq_el0", CNTFRQ_EL0);
        m.put("cntvct_el0", CNTVCT_EL0);
        m.put("cntv_cval_el0", CNTV_CVAL_EL0);
        m.put("cntv_ctl_el0", CNTV_CTL_EL0);
        m.put("cntpct_el0", CNTPCT_EL0);
        m.put("cntp_ctl_el0", CNTP_CTL_EL0);
        m.put("cntp_cval_el0", CNTP_CVAL_EL0);
        m.put("psci_version", PSCI_VERSION);
        m.put("smccc_arch_workaround_1", SMCCC_ARCH_WORKAROUND_1);
        m.put("smccc_arch_workaround_2", SMCCC_ARCH_WORKAROUND_2);
        m.put("smccc_arch_workaround_3", SMCCC_ARCH_WORKAROUND_3);
        m.put("std_bmap", STD_BMAP);
        m.put("std_hyp_bmap", STD_HYP_BMAP);
        m.put("vendor_hyp_bmap", VENDOR_HYP_BMAP);
        m.put("vendor_hyp_bmap_2", VENDOR_HYP_BMAP_2);
        NAMES = Collections.unmodifiableMap(m);
        Map<Long, String> r = new LinkedHashMap<>();
        m.forEach((k, v) -> r.putIfAbsent(v, k));
        BY_ID = Collections.unmodifiableMap(r);
    }

    /** Every name {@link #byName} knows, in a stable order, with its id. */
    public static Map<String, Long> names() {
        return NAMES;
    }

    private static final String VALID_FORMS =
            "x0..x30, sp, pc, pstate, sp_el1, elr_el1, spsr_el1|abt|und|irq|fiq, "
                    + "v0..v31, fpsr, fpcr, a system register such as mpidr_el1/sctlr_el1/cntvct_el0, "
                    + "s<op0>_<op1>_c<n>_c<m>_<op2>, psci_version, smccc_arch_workaround_1..3, std_bmap, std_hyp_bmap, "
                    + "vendor_hyp_bmap, vendor_hyp_bmap_2, or a raw id 0x...";

    /**
     * The register id for a CLI name (case-insensitive): see {@link #names()}, plus the generic
     * system register form {@code s3_0_c1_c0_0} and raw hex ids.
     *
     * @throws IllegalArgumentException with a one-line message naming {@code name} and the valid
     *     forms
     */
    public static long byName(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        Long id = NAMES.get(n);
        if (id != null) return id;
        if (n.matches("s[0-3]_[0-7]_c(1[0-5]|[0-9])_c(1[0-5]|[0-9])_[0-7]")) {
            String[] p = n.split("_", -1); // the pattern above makes exactly 5 parts
            return sysReg(
                    Integer.parseInt(p[0].substring(1)),
                    Integer.parseInt(p[1]),
                    Integer.parseInt(p[2].substring(1)),
                    Integer.parseInt(p[3].substring(1)),
                    Integer.parseInt(p[4]));
        }
        if (n.matches("0x[0-9a-f]{1,16}")) return Long.parseUnsignedLong(n.substring(2), 16);
        throw new IllegalArgumentException(
                "unknown register '" + name + "'; valid: " + VALID_FORMS);
    }

    /**
     * A readable name for an id (for messages): a {@link #byName} name, {@code s3_..} for other
     * system registers, else hex.
     */
    public static String nameOf(long id) {
        String n = BY_ID.get(id);
        if (n != null) return n;
        long sysMask =
                KvmUapi.KVM_REG_ARCH_MASK()
                        | KvmUapi.KVM_REG_SIZE_MASK()
                        | KvmUapi.KVM_REG_ARM_COPROC_MASK();
        if ((id & sysMask)
                        == (KvmUapi.KVM_REG_ARM64()
                                | KvmUapi.KVM_REG_SIZE_U64()
                                | KvmUapi.KVM_REG_ARM64_SYSREG())
                && (id & ~(sysMask | 0xffffL)) == 0) {
            return String.format(
                    "s%d_%d_c%d_c%d_%d",
                    (id & KvmUapi.KVM_REG_ARM64_SYSREG_OP0_MASK())
                            >>> KvmUapi.KVM_REG_ARM64_SYSREG_OP0_SHIFT(),
                    (id & KvmUapi.KVM_REG_ARM64_SYSREG_OP1_MASK())
                            >>> KvmUapi.KVM_REG_ARM64_SYSREG_OP1_SHIFT(),
                    (id & KvmUapi.KVM_REG_ARM64_SYSREG_CRN_MASK())
                            >>> KvmUapi.KVM_REG_ARM64_SYSREG_CRN_SHIFT(),
                    (id & KvmUapi.KVM_REG_ARM64_SYSREG_CRM_MASK())
                            >>> KvmUapi.KVM_REG_ARM64_SYSREG_CRM_SHIFT(),
                    (id & KvmUapi.KVM_REG_ARM64_SYSREG_OP2_MASK())
                            >>> KvmUapi.KVM_REG_ARM64_SYSREG_OP2_SHIFT());
        }
        return String.format("0x%016x", id);
    }

    private static void check(String what, int n, int limit) {
        if (n < 0 || n >= limit) {
            throw new IllegalArgumentException(
                    what + " index " + n + " out of range 0.." + (limit - 1));
        }
    }
}
