package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.JvmmException.Kind;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.Snapshottable;
import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.PendingSError;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One vCPU's KVM state as a snapshot part: every register KVM_GET_REG_LIST names (core, system,
 * timer, PMU, SVE, the firmware and bitmap pseudo-registers, CCSIDR), mp_state and a pending
 * SError. Driven through the {@link Vcpu} handle from whichever thread the machine chooses, while
 * the vCPU's own thread is parked outside KVM_RUN with its last exit completed (an MMIO exit's PC
 * advance and read data reach KVM only at the next KVM_RUN; the machine's pause does that).
 *
 * <p>Left out: the virtual and physical counters (CNTVCT/CNTPCT). Writing one sets an offset from
 * the host's counter, not a vCPU register; {@link CounterSnapshot} owns the guest's counter.
 *
 * <p>Restore, on a vCPU the destination built with the same KVM_ARM_VCPU_INIT (checked): the
 * registers in list order, then mp_state, then the SError. The firmware (0x14) and bitmap (0x16)
 * registers are VM-wide and must be written before any vCPU's first KVM_RUN, which the part
 * contract guarantees; every vCPU writes the same values, which KVM accepts. A register the
 * snapshot has and this host's KVM does not: skipped if its value is zero (its reset value, e.g. a
 * bitmap register a newer kernel lists: nothing was exposed to the guest) or KVM's UNKNOWN-reset
 * marker {@link #KVM_RESET_UNKNOWN} (the guest never wrote it: Linux 6.12 lists PIR_EL1/PIRE0_EL1
 * with that value for a guest without FEAT_S1PIE, a 7.x KVM does not list them at all), refused by
 * name otherwise (QEMU's rule; SNAPSHOT-MIGRATION.md 0.2). With SVE, jvmm keeps KVM's default
 * vector lengths and finalizes at build, so KVM_REG_ARM64_SVE_VLS is compared, not written: a
 * destination offering other vector lengths is refused.
 */
public final class VcpuSnapshot implements Snapshottable<VcpuState> {
    /** The counters: {@link CounterSnapshot}'s (KVM_REG_ARM_TIMER_CNT and _PTIMER_CNT). */
    static final Set<Long> COUNTERS = Set.of(RegIds.CNTVCT_EL0, RegIds.CNTPCT_EL0);

    private static final long SVE_VLS = KvmUapi.KVM_REG_ARM64_SVE_VLS();

    /**
     * The value KVM gives a system register whose architectural reset value is UNKNOWN
     * (arch/arm64/kvm/sys_regs.h, {@code reset_unknown}). A saved register still holding it was
     * never written by the guest since reset, so a destination without the register loses nothing.
     */
    static final long KVM_RESET_UNKNOWN = 0x1de7ec7edbadc0deL;

    private final Vcpu vcpu;
    private final int features;

    /**
     * @param vcpu an initialised vCPU (finalized, with SVE)
     * @param initFeatures the KVM_ARM_VCPU_INIT feature bits it was initialised with
     */
    public VcpuSnapshot(Vcpu vcpu, int[] initFeatures) {
        this.vcpu = vcpu;
        this.features = featureMask(initFeatures);
    }

    static int featureMask(int[] initFeatures) {
        int mask = 0;
        for (int f : initFeatures) mask |= 1 << f;
        return mask & ~(1 << Vcpu.FEATURE_POWER_OFF);
    }

    @Override
    public String stateKey() {
        return "vcpu." + vcpu.id();
    }

    @Override
    public Class<VcpuState> stateType() {
        return VcpuState.class;
    }

    @Override
    public VcpuState saveState() {
        List<VcpuState.Register> regs = new ArrayList<>();
        for (long id : vcpu.regList()) {
            if (!COUNTERS.contains(id)) regs.add(new VcpuState.Register(id, vcpu.getRegBytes(id)));
        }
        return new VcpuState(vcpu.id(), features, regs, vcpu.getMpState(), vcpu.getPendingSError());
    }

    @Override
    public void restoreState(VcpuState state) {
        String part = stateKey();
        if (state.id() != vcpu.id()) {
            throw SnapshotException.invalid(part, "holds the state of vCPU " + state.id());
        }
        if (state.features() != features) {
            throw new SnapshotException(
                    Kind.HOST_UNSUPPORTED,
                    String.format(
                            "snapshot: %s: the guest's vCPU had KVM features 0x%x, this machine's"
                                    + " has 0x%x (bit 3 PMU, 4 SVE, 5-6 pointer authentication)",
                            part, state.features(), features));
        }
        requireMpState(part, state.mpState());
        PendingSError serror = state.serror() == null ? PendingSError.NONE : state.serror();
        Set<Long> here = new HashSet<>();
        for (long id : vcpu.regList()) here.add(id);
        List<VcpuState.Register> writes = writesFor(part, state.registers(), here);
        for (VcpuState.Register r : writes) {
            if (r.id() == SVE_VLS) {
                requireSameVectorLengths(part, r.value());
                continue;
            }
            try {
                vcpu.setRegBytes(r.id(), r.value());
            } catch (KvmException e) {
                throw new SnapshotException(
                        Kind.HOST_UNSUPPORTED,
                        "snapshot: "
                                + part
                                + ": this host's KVM refuses register "
                                + RegIds.nameOf(r.id())
                                + " = "
                                + show(r.value())
                                + " ("
                                + Errno.name(e.errno())
                                + ")",
                        e);
            }
        }
        vcpu.setMpState(state.mpState());
        if (serror.pending()) vcpu.setPendingSError(serror);
    }

    /**
     * The registers of {@code saved} to write on a vCPU whose KVM lists {@code here}, in the saved
     * order; checks the whole record before anything is written.
     *
     * @throws SnapshotException a malformed register (size, duplicate, a counter), or one with a
     *     non-zero value that this host's KVM does not have
     */
    static List<VcpuState.Register> writesFor(
            String part, List<VcpuState.Register> saved, Set<Long> here) {
        if (saved == null) throw SnapshotException.invalid(part, "no registers");
        Set<Long> seen = new HashSet<>();
        List<VcpuState.Register> writes = new ArrayList<>();
        for (VcpuState.Register r : saved) {
            if (r == null || r.value() == null) {
                throw SnapshotException.invalid(part, "a register without id or value");
            }
            // named only for a message: String.format per register was ~8 % of a restore's
            // main-thread samples in the lab
            if (!seen.add(r.id())) {
                throw SnapshotException.invalid(
                        part, "register " + RegIds.nameOf(r.id()) + " appears twice");
            }
            if (r.value().length != RegIds.size(r.id())) {
                throw SnapshotException.invalid(
                        part,
                        "register "
                                + RegIds.nameOf(r.id())
                                + " has "
                                + r.value().length
                                + " bytes, its id says "
                                + RegIds.size(r.id()));
            }
            if (COUNTERS.contains(r.id())) {
                throw SnapshotException.invalid(
                        part, "register " + RegIds.nameOf(r.id()) + " belongs to the counter part");
            }
            if (here.contains(r.id())) {
                writes.add(r);
            } else if (!allZero(r.value()) && !isResetUnknown(r.value())) {
                throw new SnapshotException(
                        Kind.HOST_UNSUPPORTED,
                        "snapshot: "
                                + part
                                + ": the guest had register "
                                + RegIds.nameOf(r.id())
                                + " = "
                                + show(r.value())
                                + ", which this host's KVM does not have; restore on a host"
                                + " whose KVM lists it");
            }
            // absent here and zero or never written: nothing the guest set is lost
        }
        return writes;
    }

    private void requireSameVectorLengths(String part, byte[] saved) {
        byte[] here = vcpu.getRegBytes(SVE_VLS);
        if (!Arrays.equals(saved, here)) {
            throw new SnapshotException(
                    Kind.HOST_UNSUPPORTED,
                    "snapshot: "
                            + part
                            + ": the guest's SVE vector lengths "
                            + SveVectorLengths.bits(words(saved))
                            + " differ from this host's "
                            + SveVectorLengths.bits(words(here)));
        }
    }

    private static void requireMpState(String part, int mpState) {
        if (mpState != KvmUapi.KVM_MP_STATE_RUNNABLE()
                && mpState != KvmUapi.KVM_MP_STATE_STOPPED()
                && mpState != KvmUapi.KVM_MP_STATE_SUSPENDED()) {
            throw SnapshotException.invalid(part, "mpState " + mpState + " is not an arm64 state");
        }
    }

    private static long[] words(byte[] b) {
        long[] w = new long[b.length / 8];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(w);
        return w;
    }

    private static boolean isResetUnknown(byte[] b) {
        if (b.length != 8) return false;
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong() == KVM_RESET_UNKNOWN;
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) if (x != 0) return false;
        return true;
    }

    /** A value for a message: hex up to 64 bits, else its size. */
    private static String show(byte[] v) {
        if (v.length > 8) return "a non-zero " + (v.length * 8) + "-bit value";
        long x = 0;
        for (int i = v.length - 1; i >= 0; i--) x = x << 8 | (v[i] & 0xff);
        return "0x" + Long.toHexString(x);
    }
}
