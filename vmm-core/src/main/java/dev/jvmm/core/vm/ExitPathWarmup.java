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

/**
 * Runs the vCPU loop's per-exit code on synthetic exits during VM set-up, on its own thread, so
 * that the guest's first userspace exits find it loaded, linked and compiled by C1 instead of
 * interpreted (issue 12: the first ~1,000 exits cost 5x the steady state).
 *
 * <p>What runs is the same code, on throwaway objects: an {@link ExitDispatcher} over a private
 * {@link MmioBus} with a private {@link Uart8250Device} (the guests' first exits are mostly console
 * registers), a {@link SmcccRouter} with no services, and {@code kvm_run} in plain memory. With a
 * real vCPU (after KVM_ARM_VCPU_INIT, before any vCPU thread runs) it also exercises the ONE_REG
 * ioctls, on a register the guest does not get its boot arguments in (x5: read, then written back
 * unchanged), and with the VM the pointer-less ioctl downcall that KVM_RUN uses
 * (KVM_CHECK_EXTENSION). Nothing the guest can see changes.
 */
final class ExitPathWarmup implements Runnable {
    private static final System.Logger LOG = System.getLogger("jvmm.vcpu");

    /**
     * Rounds of (MMIO read, MMIO write, hypercall, register read and write): each method on the
     * path is called at least this often, well past C1's compile threshold (200 invocations). The
     * system property {@code jvmm.exitWarmupRounds} overrides it (0 turns the warm-up off), for
     * measuring its share in {@code bench/exit-bench}.
     */
    static final int ROUNDS = Integer.getInteger("jvmm.exitWarmupRounds", 600);

    private static final long UART_BASE = 0x1000;
    private static final int UART_LSR = 5, UART_SCR = 7;

    /** SDEI_VERSION, as a guest's first hypercall typically is. */
    private static final long PROBE_FUNCTION = 0xC4000020L;

    private final Vm vm;
    private final Vcpu vcpu;
    private volatile boolean cancelled;

    private ExitPathWarmup(Vm vm, Vcpu vcpu) {
        this.vm = vm;
        this.vcpu = vcpu;
    }

    /**
     * Starts warming up; {@code vm} and {@code vcpu} may be null (then only the synthetic part
     * runs). The caller must {@link Running#finish()} before any vCPU thread starts.
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

        /** Waits for the warm-up to end (it no longer touches the vCPU afterwards). */
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
            if (ROUNDS > 0) rounds(ROUNDS);
        } catch (RuntimeException e) {
            // a warm-up that fails costs speed, never the VM
            LOG.log(Level.DEBUG, "exit-path warm-up stopped", e);
        }
    }

    /** Runs {@code n} rounds; package-private for the unit test (no vCPU there). */
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
        ExitDispatcher.VcpuRegisters regs = registers();
        int cap = KvmUapi.KVM_CAP_ARM_VM_IPA_SIZE();
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
                if (vm != null) vm.checkExtension(cap);
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

    /**
     * The hypercall's registers: with a vCPU, every access goes to its x5 through the real ONE_REG
     * path (writes put back what was read); without, a scratch variable.
     */
    private ExitDispatcher.VcpuRegisters registers() {
        long scratch = RegIds.x(5);
        return new ExitDispatcher.VcpuRegisters() {
            private long saved;

            @Override
            public int cpu() {
                return 0;
            }

            @Override
            public long get(long regId) {
                if (vcpu != null) saved = vcpu.getOneReg(scratch);
                return saved;
            }

            @Override
            public void set(long regId, long value) {
                if (vcpu != null) vcpu.setOneReg(scratch, get(regId));
            }
        };
    }
}
