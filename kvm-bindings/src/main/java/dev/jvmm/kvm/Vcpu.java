package dev.jvmm.kvm;

import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.sys.Signals;
import dev.jvmm.kvm.uapi.KvmUapi;
import dev.jvmm.kvm.uapi.kvm_mp_state;
import dev.jvmm.kvm.uapi.kvm_one_reg;
import dev.jvmm.kvm.uapi.kvm_pre_fault_memory;
import dev.jvmm.kvm.uapi.kvm_reg_list;
import dev.jvmm.kvm.uapi.kvm_vcpu_events;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A vCPU fd with its mmapped {@code kvm_run}. {@link #run()} is called from one platform thread,
 * bound with {@link #bindToCurrentThread()}; {@link #kick()} may be called from any thread.
 */
public final class Vcpu extends FdHandle {
    /** Feature bits for {@link #init}: KVM_ARM_VCPU_*. */
    public static final int FEATURE_POWER_OFF = 0,
            FEATURE_PSCI_0_2 = 2,
            FEATURE_PMU_V3 = 3,
            FEATURE_SVE = 4,
            FEATURE_PTRAUTH_ADDRESS = 5,
            FEATURE_PTRAUTH_GENERIC = 6;

    /**
     * {@code _IOWR(KVMIO, 0xd5, struct kvm_pre_fault_memory)}: not in the jextract include list (no
     * arm64 KVM implements it yet); BindingsMatchCompilerTest checks it against the C macro.
     */
    public static final long KVM_PRE_FAULT_MEMORY = 0xC040AED5L;

    private static final long KVM_GET_ONE_REG = KvmUapi.KVM_GET_ONE_REG();
    private static final long KVM_SET_ONE_REG = KvmUapi.KVM_SET_ONE_REG();
    private static final long KVM_RUN = KvmUapi.KVM_RUN();
    private static final long ONE_REG_ID = kvm_one_reg.id$offset();

    private final int id;
    private final MemorySegment run;
    private volatile int tid = -1;
    private final Object kickLock = new Object();

    /** This vCPU's kvm_one_reg and the u64 its addr points at; see {@link #oneRegIoctl}. */
    private final MemorySegment oneReg;

    private final MemorySegment oneRegValue;

    Vcpu(int fd, int id, MemorySegment run) {
        super(fd);
        this.id = id;
        this.run = run;
        Arena auto = Arena.ofAuto(); // freed with this Vcpu
        this.oneReg = kvm_one_reg.allocate(auto);
        this.oneRegValue = auto.allocate(ValueLayout.JAVA_LONG);
        kvm_one_reg.addr(oneReg, oneRegValue.address());
    }

    public int id() {
        return id;
    }

    /** KVM_ARM_VCPU_INIT with the given KVM_ARM_VCPU_* feature bits. */
    public void init(int target, int... features) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment init = a.allocate(VcpuInitLayout.BYTES, 4);
            VcpuInitLayout.target(init, target);
            for (int f : features) VcpuInitLayout.addFeature(init, f);
            ioctl(KvmUapi.KVM_ARM_VCPU_INIT(), init, "KVM_ARM_VCPU_INIT(vcpu " + id + ")");
        }
    }

    /**
     * KVM_ARM_VCPU_FINALIZE of {@code feature} (KVM_ARM_VCPU_SVE): fixes the configuration made
     * between KVM_ARM_VCPU_INIT and this call (the SVE vector lengths). Needed once per vCPU before
     * KVM_RUN and KVM_GET_REG_LIST; a second call fails with EPERM, also after a repeated init.
     */
    public void finalizeFeature(int feature) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(ValueLayout.JAVA_INT);
            f.set(ValueLayout.JAVA_INT, 0, feature);
            ioctl(
                    KvmUapi.KVM_ARM_VCPU_FINALIZE(),
                    f,
                    "KVM_ARM_VCPU_FINALIZE(vcpu " + id + ", feature " + feature + ")");
        }
    }

    /**
     * Reads a register wider than 64 bits (KVM_GET_ONE_REG) as little-endian 64-bit words, e.g. the
     * 512-bit KVM_REG_ARM64_SVE_VLS ({@code words} = 8).
     */
    public long[] getWideReg(long regId, int words) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment value = a.allocate(ValueLayout.JAVA_LONG, words);
            wideRegIoctl(KVM_GET_ONE_REG, regId, value, "KVM_GET_ONE_REG");
            return value.toArray(ValueLayout.JAVA_LONG);
        }
    }

    /** Writes a register wider than 64 bits (KVM_SET_ONE_REG) from little-endian 64-bit words. */
    public void setWideReg(long regId, long[] words) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment value = a.allocateFrom(ValueLayout.JAVA_LONG, words);
            wideRegIoctl(KVM_SET_ONE_REG, regId, value, "KVM_SET_ONE_REG");
        }
    }

    private void wideRegIoctl(long request, long regId, MemorySegment value, String op) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = kvm_one_reg.allocate(a);
            kvm_one_reg.id(reg, regId);
            kvm_one_reg.addr(reg, value.address());
            ioctl(request, reg, op + "(vcpu " + id + ", " + RegIds.nameOf(regId) + ")");
        }
    }

    /**
     * KVM_GET_REG_LIST: the id of every register KVM_GET/SET_ONE_REG takes on this vCPU (core,
     * system, timer, firmware and bitmap pseudo-registers, SVE, CCSIDR demux). Valid after
     * KVM_ARM_VCPU_INIT and, with SVE, after KVM_ARM_VCPU_FINALIZE. The first call with n = 0 fails
     * with E2BIG and tells the count.
     */
    public long[] regList() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment probe = kvm_reg_list.allocate(a);
            int r = Libc.ioctlRaw(fd(), KvmUapi.KVM_GET_REG_LIST(), probe);
            if (r == 0) return new long[0];
            if (r != -Errno.E2BIG) {
                throw new KvmException("KVM_GET_REG_LIST(vcpu " + id + ")", -r);
            }
            long n = kvm_reg_list.n(probe);
            MemorySegment list = a.allocate(ValueLayout.JAVA_LONG, n + 1);
            list.set(ValueLayout.JAVA_LONG, 0, n);
            ioctl(KvmUapi.KVM_GET_REG_LIST(), list, "KVM_GET_REG_LIST(vcpu " + id + ")");
            long got = list.get(ValueLayout.JAVA_LONG, 0);
            return list.asSlice(8, 8 * got).toArray(ValueLayout.JAVA_LONG);
        }
    }

    /**
     * Reads any register as its {@link RegIds#size} bytes, little-endian as KVM stores them (U32 up
     * to the 2048-bit SVE Z slices).
     */
    public byte[] getRegBytes(long regId) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment value = a.allocate(RegIds.size(regId), 8);
            wideRegIoctl(KVM_GET_ONE_REG, regId, value, "KVM_GET_ONE_REG");
            return value.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** Writes any register from its {@link RegIds#size} little-endian bytes. */
    public void setRegBytes(long regId, byte[] bytes) {
        if (bytes.length != RegIds.size(regId)) {
            throw new IllegalArgumentException(
                    RegIds.nameOf(regId)
                            + " takes "
                            + RegIds.size(regId)
                            + " bytes, not "
                            + bytes.length);
        }
        if (bytes.length == Long.BYTES) { // most registers: the preallocated kvm_one_reg, no arena
            setOneReg(regId, MemorySegment.ofArray(bytes).get(LE_LONG, 0));
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment value = a.allocate(bytes.length, 8);
            MemorySegment.copy(bytes, 0, value, ValueLayout.JAVA_BYTE, 0, bytes.length);
            wideRegIoctl(KVM_SET_ONE_REG, regId, value, "KVM_SET_ONE_REG");
        }
    }

    /** A register's bytes as KVM takes them (arm64 is little-endian), unaligned in a byte[]. */
    private static final ValueLayout.OfLong LE_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    /** KVM_GET_MP_STATE: KVM_MP_STATE_RUNNABLE, _STOPPED (powered off) or _SUSPENDED. */
    public int getMpState() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = kvm_mp_state.allocate(a);
            ioctl(KvmUapi.KVM_GET_MP_STATE(), s, "KVM_GET_MP_STATE(vcpu " + id + ")");
            return kvm_mp_state.mp_state(s);
        }
    }

    /** KVM_SET_MP_STATE (EINVAL for a state arm64 does not have). */
    public void setMpState(int state) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = kvm_mp_state.allocate(a);
            kvm_mp_state.mp_state(s, state);
            ioctl(
                    KvmUapi.KVM_SET_MP_STATE(),
                    s,
                    "KVM_SET_MP_STATE(vcpu " + id + ", " + state + ")");
        }
    }

    /** KVM_GET_VCPU_EVENTS: the SError KVM holds for the guest, if any. */
    public PendingSError getPendingSError() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = kvm_vcpu_events.allocate(a);
            ioctl(KvmUapi.KVM_GET_VCPU_EVENTS(), e, "KVM_GET_VCPU_EVENTS(vcpu " + id + ")");
            MemorySegment x = kvm_vcpu_events.exception(e);
            return new PendingSError(
                    kvm_vcpu_events.exception.serror_pending(x) != 0,
                    kvm_vcpu_events.exception.serror_has_esr(x) != 0,
                    kvm_vcpu_events.exception.serror_esr(x));
        }
    }

    /**
     * KVM_SET_VCPU_EVENTS with only the SError fields (no external abort injected; reserved words
     * zero, as KVM requires). Nothing pending is a no-op.
     */
    public void setPendingSError(PendingSError s) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = kvm_vcpu_events.allocate(a);
            MemorySegment x = kvm_vcpu_events.exception(e);
            kvm_vcpu_events.exception.serror_pending(x, (byte) (s.pending() ? 1 : 0));
            kvm_vcpu_events.exception.serror_has_esr(x, (byte) (s.hasEsr() ? 1 : 0));
            kvm_vcpu_events.exception.serror_esr(x, s.esr());
            ioctl(KvmUapi.KVM_SET_VCPU_EVENTS(), e, "KVM_SET_VCPU_EVENTS(vcpu " + id + ")");
        }
    }

    /** Reads a 64-bit register (KVM_GET_ONE_REG). */
    public long getOneReg(long regId) {
        synchronized (oneReg) {
            int r = oneRegIoctl(KVM_GET_ONE_REG, regId);
            if (r < 0) throw new KvmException("KVM_GET_ONE_REG(" + RegIds.nameOf(regId) + ")", -r);
            return oneRegValue.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** Writes a 64-bit register (KVM_SET_ONE_REG). */
    public void setOneReg(long regId, long value) {
        synchronized (oneReg) {
            oneRegValue.set(ValueLayout.JAVA_LONG, 0, value);
            int r = oneRegIoctl(KVM_SET_ONE_REG, regId);
            if (r < 0) throw new KvmException("KVM_SET_ONE_REG(" + RegIds.nameOf(regId) + ")", -r);
        }
    }

    /**
     * KVM_GET_ONE_REG that returns {@code -errno} as a failure marker instead of throwing (for
     * probes).
     */
    public int tryGetOneReg(long regId, long[] out) {
        synchronized (oneReg) {
            int r = oneRegIoctl(KVM_GET_ONE_REG, regId);
            if (r == 0) out[0] = oneRegValue.get(ValueLayout.JAVA_LONG, 0);
            return r;
        }
    }

    /**
     * One ONE_REG ioctl through this vCPU's preallocated {@code kvm_one_reg}, whose {@code addr}
     * points at {@link #oneRegValue} for the vCPU's whole life: no arena, no native allocation and
     * no string per register access (hypercalls do several per exit). Callers hold the lock on
     * {@link #oneReg}; uncontended, since only the thread running the vCPU (or set-up and reset,
     * while no vCPU thread runs) touches registers.
     */
    private int oneRegIoctl(long request, long regId) {
        oneReg.set(ValueLayout.JAVA_LONG, ONE_REG_ID, regId);
        return Libc.shortIoctlRaw(fd(), request, oneReg);
    }

    public boolean hasAttribute(int group, long attribute) {
        return DeviceAttrs.has(fd(), group, attribute);
    }

    public void setAttributeU64(int group, long attribute, long value, String what) {
        DeviceAttrs.setU64(
                fd(), group, attribute, value, "KVM_SET_DEVICE_ATTR(vcpu " + id + " " + what + ")");
    }

    /** Sets an attribute whose value is a C {@code int} (the PMU's IRQ and SET_PMU take one). */
    public void setAttributeInt(int group, long attribute, int value, String what) {
        DeviceAttrs.setI32(
                fd(), group, attribute, value, "KVM_SET_DEVICE_ATTR(vcpu " + id + " " + what + ")");
    }

    /** Sets an attribute with no value (e.g. the PMU's PMU_V3_INIT). */
    public void setAttribute(int group, long attribute, String what) {
        DeviceAttrs.set(
                fd(),
                group,
                attribute,
                (MemorySegment) null,
                "KVM_SET_DEVICE_ATTR(vcpu " + id + " " + what + ")");
    }

    public long getAttributeU64(int group, long attribute, String what) {
        return DeviceAttrs.getU64(
                fd(), group, attribute, "KVM_GET_DEVICE_ATTR(vcpu " + id + " " + what + ")");
    }

    /**
     * Maps guest physical {@code [gpa, gpa + size)} at stage 2 before the guest touches it
     * (KVM_PRE_FAULT_MEMORY; only where KVM_CAP_PRE_FAULT_MEMORY says so). KVM handles part of the
     * range per call and advances gpa/size in the struct, so this repeats until the range is done.
     */
    public void preFaultMemory(long gpa, long size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = kvm_pre_fault_memory.allocate(a);
            kvm_pre_fault_memory.gpa(s, gpa);
            kvm_pre_fault_memory.size(s, size);
            while (kvm_pre_fault_memory.size(s) > 0) {
                int r = Libc.ioctlRaw(fd(), KVM_PRE_FAULT_MEMORY, s);
                if (r < 0 && r != -Errno.EINTR && r != -Errno.EAGAIN) {
                    throw new KvmException(
                            String.format(
                                    "KVM_PRE_FAULT_MEMORY(vcpu %d, 0x%x)",
                                    id, kvm_pre_fault_memory.gpa(s)),
                            -r);
                }
            }
        }
    }

    /**
     * Prepares the calling platform thread to run this vCPU: the kick signal is blocked in the
     * thread (so no handler ever runs) and unblocked only while inside KVM_RUN
     * (KVM_SET_SIGNAL_MASK).
     */
    public void bindToCurrentThread() {
        try (Arena a = Arena.ofConfined()) {
            Signals.threadMask(
                    Libc.SIG_BLOCK, Signals.sigset(a, Signals.KICK_SIGNAL), MemorySegment.NULL);
            MemorySegment current = a.allocate(Libc.GLIBC_SIGSET_BYTES, 8);
            Signals.threadMask(Libc.SIG_BLOCK, MemorySegment.NULL, current);
            long kernelMask =
                    current.get(ValueLayout.JAVA_LONG, 0) & ~(1L << (Signals.KICK_SIGNAL - 1));
            MemorySegment sm = a.allocate(4 + Libc.KERNEL_SIGSET_BYTES, 4);
            sm.set(ValueLayout.JAVA_INT, 0, Libc.KERNEL_SIGSET_BYTES);
            sm.set(ValueLayout.JAVA_LONG_UNALIGNED, 4, kernelMask);
            ioctl(KvmUapi.KVM_SET_SIGNAL_MASK(), sm, "KVM_SET_SIGNAL_MASK(vcpu " + id + ")");
        }
        synchronized (kickLock) {
            tid = Signals.gettid();
        }
    }

    /**
     * Makes the vCPU leave (or not enter) KVM_RUN soon: sets immediate_exit and signals the bound
     * thread. Safe from any thread; a kick before {@link #bindToCurrentThread()} only sets the
     * flag.
     */
    public void kick() {
        KvmRunLayout.immediateExit(run, true);
        // under the lock the bound thread cannot unbind and exit between reading its id and the
        // tgkill: a real-time signal sent to an id that is no longer (or no longer only) this
        // vCPU's thread would kill the whole process (no handler is installed)
        synchronized (kickLock) {
            int t = tid;
            // the bound thread kicking itself is not in KVM_RUN: the flag alone is enough
            if (t > 0 && t != Signals.gettid()) Signals.tgkill(t, Signals.KICK_SIGNAL);
        }
    }

    /**
     * Called by the bound thread when it stops running this vCPU: consumes a kick that arrived
     * while it was outside KVM_RUN, so no real-time signal is left pending on a thread that is
     * exiting.
     */
    public void unbindFromCurrentThread() {
        synchronized (kickLock) {
            tid = -1;
        }
        // a real-time signal queues once per kick (no coalescing): a parked vCPU can collect
        // several
        while (Signals.drain(Signals.KICK_SIGNAL)) {}
    }

    /**
     * Enters the guest until the next exit and returns the exit reason ({@link KvmRunLayout}
     * EXIT_*); the exit's details are read in place from {@link #runStructure()}. EINTR or EAGAIN
     * (a kick) is {@link KvmRunLayout#EXIT_INTR}. Allocates nothing.
     */
    public int runForReason() {
        int r = Libc.ioctlRaw(fd(), KVM_RUN, 0L);
        if (r == -Errno.EINTR || r == -Errno.EAGAIN) {
            clearKick();
            return KvmRunLayout.EXIT_INTR;
        }
        if (r < 0) throw new KvmException("KVM_RUN(vcpu " + id + ")", -r);
        int reason = KvmRunLayout.exitReason(run);
        if (reason == KvmRunLayout.EXIT_INTR) clearKick();
        return reason;
    }

    /**
     * Enters the guest until the next exit, decoded (allocates a record: for tests and probes; the
     * vCPU loop uses {@link #runForReason()}). EINTR (a kick) is {@link VcpuExit.Interrupted}.
     */
    public VcpuExit run() {
        int reason = runForReason();
        return reason == KvmRunLayout.EXIT_INTR
                ? new VcpuExit.Interrupted()
                : KvmRunDecoder.decode(run);
    }

    private void clearKick() {
        KvmRunLayout.immediateExit(run, false);
        // kicks that arrived outside KVM_RUN are still pending, one queued signal per kick
        if (tid > 0) while (Signals.drain(Signals.KICK_SIGNAL)) {}
    }

    /** The mmapped kvm_run, for tests and diagnostics. */
    public MemorySegment runStructure() {
        return run;
    }

    @Override
    protected void releaseResources() {
        Libc.munmap(run);
    }
}
