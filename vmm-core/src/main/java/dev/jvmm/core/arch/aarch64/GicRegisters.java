package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.snapshot.SnapshotException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which vGICv3 registers a snapshot carries, named and in restore order (SNAPSHOT-MIGRATION.md 1.3,
 * QEMU's working order): config before pending (ICFGR, so a line is treated as level or edge
 * correctly), routing before pending (IROUTER), LPI table addresses before GICR_CTLR may enable
 * LPIs. Offsets are the GIC architecture's; a 64-bit register is its low word then its high word,
 * as KVM's 32-bit accesses take it. Only the set-registers are saved: their clear twins at +0x80
 * (ICENABLER, ICPENDR, ICACTIVER) are written all-ones first to clear what a fresh vGIC has.
 */
final class GicRegisters {
    /** A register: what messages call it, and its offset (or ICC encoding). */
    record Reg(String name, long offset, boolean hasClearTwin) {
        Reg(String name, long offset) {
            this(name, offset, false);
        }

        long clearTwin() {
            return offset + 0x80;
        }
    }

    static final Reg GICD_CTLR = new Reg("GICD_CTLR", 0x0);
    static final Reg GICD_IIDR = new Reg("GICD_IIDR", 0x8);
    static final long SGI_BASE = 0x10000;

    private GicRegisters() {}

    /** Distributor configuration for the SPIs: restored before the line levels. */
    static List<Reg> distributorConfig(int nrIrqs) {
        List<Reg> r = new ArrayList<>();
        r.add(new Reg("GICD_STATUSR", 0x10));
        words(r, "GICD_IGROUPR", 0x080, nrIrqs, 32, false);
        words(r, "GICD_ISENABLER", 0x100, nrIrqs, 32, true);
        for (int irq = 32; irq < nrIrqs; irq++) {
            r.add(new Reg("GICD_IROUTER" + irq, 0x6000 + 8L * irq));
            r.add(new Reg("GICD_IROUTER" + irq + "[63:32]", 0x6000 + 8L * irq + 4));
        }
        words(r, "GICD_ICFGR", 0xc00, nrIrqs, 16, false);
        return r;
    }

    /** Distributor pending, active and priority state: restored after the line levels. */
    static List<Reg> distributorState(int nrIrqs) {
        List<Reg> r = new ArrayList<>();
        words(r, "GICD_ISPENDR", 0x200, nrIrqs, 32, true);
        words(r, "GICD_ISACTIVER", 0x300, nrIrqs, 32, true);
        words(r, "GICD_IPRIORITYR", 0x400, nrIrqs, 4, false);
        return r;
    }

    /**
     * One word per {@code perWord} SPIs (the private interrupts' words are the redistributor's).
     */
    private static void words(
            List<Reg> r, String name, long base, int nrIrqs, int perWord, boolean clearTwin) {
        for (int n = 32 / perWord; n < nrIrqs / perWord; n++) {
            r.add(new Reg(name + n, base + 4L * n, clearTwin));
        }
    }

    /** The LPI table addresses: every redistributor's, before any GICR_CTLR. */
    static List<Reg> redistributorLpi() {
        return List.of(
                new Reg("GICR_PROPBASER", 0x70),
                new Reg("GICR_PROPBASER[63:32]", 0x74),
                new Reg("GICR_PENDBASER", 0x78),
                new Reg("GICR_PENDBASER[63:32]", 0x7c));
    }

    /** A redistributor's control and SGI/PPI configuration: before its line levels. */
    static List<Reg> redistributorConfig() {
        return List.of(
                new Reg("GICR_CTLR", 0x0),
                new Reg("GICR_STATUSR", 0x10),
                new Reg("GICR_WAKER", 0x14),
                new Reg("GICR_IGROUPR0", SGI_BASE + 0x80),
                new Reg("GICR_ISENABLER0", SGI_BASE + 0x100, true),
                new Reg("GICR_ICFGR1", SGI_BASE + 0xc04));
    }

    /** A redistributor's SGI/PPI pending, active and priority state: after its line levels. */
    static List<Reg> redistributorState() {
        List<Reg> r = new ArrayList<>();
        r.add(new Reg("GICR_ISPENDR0", SGI_BASE + 0x200, true));
        r.add(new Reg("GICR_ISACTIVER0", SGI_BASE + 0x300, true));
        for (int n = 0; n < 8; n++)
            r.add(new Reg("GICR_IPRIORITYR" + n, SGI_BASE + 0x400 + 4L * n));
        return r;
    }

    /** ICC_CTLR_EL1, read first: its PRIbits say how many active-priority registers exist. */
    static final Reg ICC_CTLR_EL1 = icc("ICC_CTLR_EL1", 12, 12, 4);

    /**
     * The CPU interface's registers in restore order (SRE first: it selects the system-register
     * interface the others belong to); AP0R/AP1R as many as ICC_CTLR_EL1.PRIbits implies (1 for 5
     * priority bits, 2 for 6, 4 for 7).
     */
    static List<Reg> cpuInterface(long iccCtlr) {
        List<Reg> r = new ArrayList<>();
        r.add(icc("ICC_SRE_EL1", 12, 12, 5));
        r.add(ICC_CTLR_EL1);
        r.add(icc("ICC_IGRPEN0_EL1", 12, 12, 6));
        r.add(icc("ICC_IGRPEN1_EL1", 12, 12, 7));
        r.add(icc("ICC_PMR_EL1", 4, 6, 0));
        r.add(icc("ICC_BPR0_EL1", 12, 8, 3));
        r.add(icc("ICC_BPR1_EL1", 12, 12, 3));
        int apRegs = activePriorityRegisters(iccCtlr);
        for (int n = 0; n < apRegs; n++) r.add(icc("ICC_AP0R" + n + "_EL1", 12, 8, 4 + n));
        for (int n = 0; n < apRegs; n++) r.add(icc("ICC_AP1R" + n + "_EL1", 12, 9, n));
        return r;
    }

    /** ICC_APnR registers per group for ICC_CTLR_EL1.PRIbits (bits 10:8, priority bits - 1). */
    static int activePriorityRegisters(long iccCtlr) {
        int priBits = (int) ((iccCtlr >>> 8) & 7) + 1;
        return priBits <= 5 ? 1 : priBits == 6 ? 2 : 4;
    }

    /** KVM's CPU_SYSREGS attribute encoding, op0 3 and op1 0: op0:op1:CRn:CRm:op2. */
    private static Reg icc(String name, int crn, int crm, int op2) {
        return new Reg(name, 3L << 14 | crn << 7 | crm << 3 | op2);
    }

    /**
     * {@code saved} as offset to value, checked against {@code expected}: the same registers, each
     * once, none unknown, a 32-bit one within 32 bits.
     *
     * @param where names the register block in messages ("distributor", "cpu 1 redistributor")
     * @throws SnapshotException naming the first register that does not fit
     */
    static Map<Long, Long> check(
            String part,
            String where,
            List<DeviceRegister> saved,
            List<Reg> expected,
            boolean wide) {
        if (saved == null) throw SnapshotException.invalid(part, where + ": no registers");
        Map<Long, String> names = new HashMap<>();
        for (Reg e : expected) names.put(e.offset(), e.name());
        Map<Long, Long> values = new HashMap<>();
        for (DeviceRegister d : saved) {
            if (d == null) throw SnapshotException.invalid(part, where + ": an empty register");
            String name = names.get(d.offset());
            if (name == null) {
                throw SnapshotException.invalid(
                        part, where + ": no register at 0x" + Long.toHexString(d.offset()));
            }
            if (values.put(d.offset(), d.value()) != null) {
                throw SnapshotException.invalid(part, where + ": " + name + " appears twice");
            }
            if (!wide && (d.value() >>> 32) != 0) {
                throw SnapshotException.invalid(
                        part,
                        where
                                + ": "
                                + name
                                + " = 0x"
                                + Long.toHexString(d.value())
                                + " does not fit its 32 bits");
            }
        }
        for (Reg e : expected) {
            if (!values.containsKey(e.offset())) {
                throw SnapshotException.invalid(part, where + ": " + e.name() + " is missing");
            }
        }
        return values;
    }
}
