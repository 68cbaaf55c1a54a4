package dev.jvmm.core.vm;

import dev.jvmm.core.device.MmioBus;
import dev.jvmm.core.device.Uart8250Device;
import dev.jvmm.core.hypercall.SmcccRouter;
import dev.jvmm.kvm.KvmRunLayout;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.uapi.KvmUapi;
import dev.jvmm.kvm.uapi.kvm_run;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the vCPU loop's per-exit code on synthetic exits during VM set-up, on its own thread, so
 * that the guest's first userspace exits find it loaded, linked and compiled by C1 instead of
 * interpreted (issue 12: the first ~1,000 exits cost 5x the steady state).
 *
 * <p>Two phases. The first uses the real vCPU 0 (after KVM_ARM_VCPU_INIT, before any vCPU thread
 * runs): the ONE_REG ioctls on a register the guest does not get its boot arguments in (x5: read,
 * then written back unchanged) and, with the VM, the pointer-less ioctl downcall that KVM_RUN uses
 * (KVM_CHECK_EXTENSION). Once it is over the vCPU is {@linkplain Running#releaseVcpu() released}
 * and the vCPUs may start. The second runs the same exit code on throwaway objects only: an {@link
 * ExitDispatcher} over a private {@link MmioBus} with a private {@link Uart8250Device} (the guests'
 * first exits are mostly console registers), a {@link SmcccRouter} with no services, and {@code
 * kvm_run} in plain memory. It overlaps the guest's first instructions, which run in the kernel
 * without userspace exits; the real dispatcher waits for it before its first exit ({@link
 * ExitDispatcher#beforeFirstExit}). Nothing the guest can see changes.
 */
final class ExitPathWarmup implements Runnable {
    private static final System.Logger LOG = System.getLogger("jvmm.vcpu");

    /**
     * Rounds of (MMIO read, MMIO write, hypercall, register read and write), from the system
     * property {@code jvmm.exitWarmupRounds}; 0 (the default) means no warm-up. 600 calls each
     * method well past C1's compile threshold (200 invocations): the first 1,000 MMIO exits then
     * cost 0.70 instead of 1.05 ms in {@code bench/exit-bench}. It is off by default because a boot
     * paid more for it than it saved: the lab's L1 has about one CPU's worth of throughput, so the
     * warm-up's ~2,400 interpreted synthetic exits and compilations competed with set-up and the
     * guest. Measured interleaved in one L1 boot, off against 600 rounds: boot to init 7.93 against
     * 8.20-12.73 s, CPU per boot 10.9 against 12.0-19.5 s (bench/README.md, "2026-12-07 (late)").
     */
    static final int ROUNDS = Integer.getInteger("jvmm.exitWarmupRounds", 0);

    private static final long UART_BASE = 0x1000;
    private static final int UART_LSR = 5, UART_SCR = 7;

    /** SDEI_VERSION, as a guest's first hypercall typically is. */
    private static final long PROBE_FUNCTION = 0xC4000020L;

    private final Vm vm;
    private final Vcpu vcpu;
    private final CountDownLatch vcpuReleased = new CountDownLatch(1);
    private volatile boolean cancelled;

    ExitPathWarmup(Vm vm, Vcpu vcpu) {
        this.vm = vm;
        this.vcpu = vcpu;
    }

    /**
     * Starts warming up ({@link #ROUNDS} &gt; 0); {@code vm} and {@code vcpu} may be null (then
     * only the synthetic part runs). The caller must {@link Running#releaseVcpu()} before any vCPU
     * thread starts.
     */
    static Running start(Vm vm, Vcpu vcpu) {
        ExitPathWarmup w = new ExitPathWarmup(vm, vcpu);
        Thread t = Thread.ofPlatform().name("exit-warmup").daemon(true).start(w);
        return new Running(w, t);
    }

    /** A warm-up in progress. */
    static final class Running {
        private final ExitPathWarmup warmup;
        private final Thread thread;

        private Running(ExitPathWarmup warmup, Thread thread) {
            this.warmup = warmup;
            this.thread = thread;
        }

        /** Waits until the warm-up no longer touches the vCPU or the VM (its first phase ends). */
        void releaseVcpu() {
            SetupThreads.uninterruptibly(warmup.vcpuReleased::await);
        }

        boolean isAlive() {
            return thread.isAlive();
        }

        /** Waits for the whole warm-up to end. */
        void finish() {
            SetupThreads.joinUninterruptibly(thread);
        }

        /** Stops the warm-up early and waits for it (set-up failed; the vCPU is about to close). */
        void cancel() {
            warmup.cancelled = true;
            SetupThreads.joinUninterruptibly(thread);
        }
    }

    @Override
    public void run() {
        try {
            if (ROUNDS > 0) ioctlRounds(ROUNDS);
        } catch (RuntimeException e) {
            // a warm-up that fails costs speed, never the VM
            LOG.log(Level.DEBUG, "exit-path warm-up stopped", e);
        } finally {
            vcpuReleased.countDown();
        }
        try {
            if (ROUNDS > 0) rounds(ROUNDS);
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, "exit-path warm-up stopped", e);
        }
    }

    /** The first phase: the vCPU's ONE_REG round trip and the VM's ioctl, {@code n} times each. */
    private void ioctlRounds(int n) {
        if (vcpu == null && vm == null) return;
        long x5 = RegIds.x(5);
        int cap = KvmUapi.KVM_CAP_ARM_VM_IPA_SIZE();
        for (int i = 0; i < n && !cancelled; i++) {
            if (vcpu != null) vcpu.setOneReg(x5, vcpu.getOneReg(x5));
            if (vm != null) vm.checkExtension(cap);
        }
    }

    /**
     * The second phase: {@code n} rounds of exits through a private dispatcher, touching no KVM
     * object; package-private for the unit test.
     */
    void rounds(int n) {
        MmioBus bus = new MmioBus();
        bus.register(
                UART_BASE,
                0x100,
                new Uart8250Device(high -> {}, OutputStream.nullOutputStream()),
                "warmup-uart");
        ExitDispatcher dispatcher =
                new ExitDispatcher(
                        bus,
                        ExitDispatcher.routeTo(SmcccRouter.builder().build()),
                        VmConfig.OnReset.EXIT);
        MmioBuffers buffers = new MmioBuffers();
        ExitDispatcher.VcpuRegisters regs = new ScratchRegisters();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment run = kvm_run.allocate(arena);
            for (int i = 0; i < n && !cancelled; i++) {
                mmio(run, UART_BASE + UART_LSR, false);
                dispatcher.handle(KvmRunLayout.EXIT_MMIO, run, buffers, regs);
                mmio(run, UART_BASE + UART_SCR, true);
                dispatcher.handle(KvmRunLayout.EXIT_MMIO, run, buffers, regs);
                kvm_run.exit_reason(run, KvmRunLayout.EXIT_HYPERCALL);
                kvm_run.hypercall.nr(kvm_run.hypercall(run), PROBE_FUNCTION);
                dispatcher.handle(KvmRunLayout.EXIT_HYPERCALL, run, buffers, regs);
                dispatcher.handle(KvmRunLayout.EXIT_INTR, run, buffers, regs);
            }
        }
    }

    private static void mmio(MemorySegment run, long address, boolean write) {
        kvm_run.exit_reason(run, KvmRunLayout.EXIT_MMIO);
        MemorySegment m = kvm_run.mmio(run);
        kvm_run.mmio.phys_addr(m, address);
        kvm_run.mmio.len(m, 1);
        kvm_run.mmio.is_write(m, (byte) (write ? 1 : 0));
        kvm_run.mmio.data(m).set(ValueLayout.JAVA_BYTE, 0, (byte) 0x5a);
    }

    /** The hypercall's registers in the second phase: one scratch value, no vCPU. */
    private static final class ScratchRegisters implements ExitDispatcher.VcpuRegisters {
        private long value;

        @Override
        public int cpu() {
            return 0;
        }

        @Override
        public long get(long regId) {
            return value;
        }

        @Override
        public void set(long regId, long v) {
            value = v;
        }
    }
}
