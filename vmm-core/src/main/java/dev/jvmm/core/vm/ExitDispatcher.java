package dev.jvmm.core.vm;

import dev.jvmm.core.device.MmioBus;
import dev.jvmm.core.hypercall.GuestRegisters;
import dev.jvmm.core.hypercall.SmcccRouter;
import dev.jvmm.kvm.KvmRunDecoder;
import dev.jvmm.kvm.KvmRunLayout;
import dev.jvmm.kvm.VcpuExit;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Maps one exit to what the vCPU loop does next. Side effects go only to the MMIO bus and to the
 * hypercall handler, so every exit path is unit-tested with synthetic exits and no /dev/kvm.
 *
 * <p>The vCPU loop calls {@link #handle(int, MemorySegment, MmioBuffers, VcpuRegisters)} with the
 * exit reason and the vCPU's {@code kvm_run}: MMIO and hypercall exits, nearly all of a guest's
 * userspace exits, are read in place ({@link KvmRunLayout}) with a plain {@code switch} on the
 * reason and allocate nothing (the vCPU's {@link MmioBuffers} carry the data). The rare exits are
 * decoded into a {@link VcpuExit} and handled by {@link #handle(VcpuExit, VcpuRegisters)}.
 */
public final class ExitDispatcher {
    /** What the vCPU loop does after an exit. */
    public sealed interface Action {
        record Continue() implements Action {}

        record Stop(VmResult result) implements Action {}
    }

    /**
     * Answers forwarded SMCCC calls (SDEI and friends arrive here once a service installs a
     * filter).
     */
    @FunctionalInterface
    public interface HypercallHandler {
        /**
         * One call: {@code functionId} as KVM reports it (kvm_run.hypercall.nr), {@code smc} when
         * the guest used SMC rather than HVC.
         */
        void handle(long functionId, boolean smc, VcpuRegisters regs);
    }

    /**
     * Read/write access to the exiting vCPU's registers (KVM_GET/SET_ONE_REG), and which vCPU it
     * is.
     */
    public interface VcpuRegisters extends GuestRegisters {
        /** The vCPU's index. */
        int cpu();
    }

    /** SMCCC NOT_SUPPORTED, as KVM answers unknown function IDs. */
    public static final long SMCCC_NOT_SUPPORTED = -1L;

    private static final Action CONTINUE = new Action.Continue();

    private final MmioBus bus;
    private final HypercallHandler hypercalls;
    private final VmConfig.OnReset onReset;

    /**
     * Run once before the first exit is handled (then dropped): the exit-path warm-up's end. A
     * plain field: a vCPU that still sees it after another cleared it runs it again, which waits
     * for nothing.
     */
    private Runnable beforeFirstExit;

    public ExitDispatcher(MmioBus bus, HypercallHandler hypercalls, VmConfig.OnReset onReset) {
        this.bus = bus;
        this.hypercalls = hypercalls;
        this.onReset = onReset;
    }

    /** A handler for VMs with no forwarded services: every call gets NOT_SUPPORTED in x0. */
    public static HypercallHandler notSupported(long x0RegId) {
        return (functionId, smc, regs) -> regs.set(x0RegId, SMCCC_NOT_SUPPORTED);
    }

    /** Hands every forwarded call to {@code router} with the calling vCPU's index and registers. */
    public static HypercallHandler routeTo(SmcccRouter router) {
        return (functionId, smc, regs) -> router.handle(regs.cpu(), (int) functionId, smc, regs);
    }

    /**
     * Has {@code waiter} run before the first exit this dispatcher handles, on the vCPU thread that
     * got it (it must be safe to run more than once: several vCPUs may race to it). Set before any
     * vCPU runs.
     */
    public void beforeFirstExit(Runnable waiter) {
        this.beforeFirstExit = waiter;
    }

    /**
     * Handles the exit {@code reason} ({@link KvmRunLayout} EXIT_*) that KVM described in {@code
     * run}. Allocates nothing for MMIO, hypercall and interrupted exits; anything else (or an MMIO
     * exit with a length KVM never reports) goes through {@link KvmRunDecoder}.
     */
    public Action handle(int reason, MemorySegment run, MmioBuffers buffers, VcpuRegisters regs) {
        Runnable first = beforeFirstExit;
        if (first != null) {
            first.run();
            beforeFirstExit = null;
        }
        // an int switch over constants: a tableswitch, no bootstrap method to link on the first
        // exit
        switch (reason) {
            case KvmRunLayout.EXIT_MMIO -> {
                int len = KvmRunLayout.mmioLength(run);
                if (len >= 0 && len <= KvmRunLayout.MMIO_MAX_LEN) { // else decoded as Unknown
                    mmio(run, buffers.ofLength(len));
                    return CONTINUE;
                }
            }
            case KvmRunLayout.EXIT_HYPERCALL -> {
                hypercalls.handle(
                        KvmRunLayout.hypercallNr(run),
                        (KvmRunLayout.hypercallFlags(run) & KvmRunLayout.HYPERCALL_SMC) != 0,
                        regs);
                return CONTINUE;
            }
            case KvmRunLayout.EXIT_INTR -> {
                return CONTINUE; // the loop checks for a stop itself
            }
            default -> {}
        }
        return handle(KvmRunDecoder.decode(run), regs);
    }

    /** Handles a decoded exit: the rare kinds in the vCPU loop, and synthetic exits in tests. */
    public Action handle(VcpuExit exit, VcpuRegisters regs) {
        return switch (exit) {
            case VcpuExit.Mmio m -> {
                mmio(m);
                yield CONTINUE;
            }
            case VcpuExit.Hypercall h -> {
                hypercalls.handle(h.functionId(), h.smc(), regs);
                yield CONTINUE;
            }
            case VcpuExit.SystemEvent e -> systemEvent(e);
            case VcpuExit.Interrupted i -> CONTINUE; // the loop checks for a stop itself
            case VcpuExit.FailEntry f ->
                    stop(
                            VmResult.Reason.CRASH,
                            String.format(
                                    "KVM_EXIT_FAIL_ENTRY: hardware reason 0x%x on host cpu %d",
                                    f.hardwareReason(), f.cpu()));
            case VcpuExit.Internal i ->
                    stop(
                            VmResult.Reason.CRASH,
                            "KVM_EXIT_INTERNAL_ERROR: suberror "
                                    + i.suberror()
                                    + " data "
                                    + Arrays.toString(i.data()));
            case VcpuExit.Unknown u ->
                    stop(VmResult.Reason.CRASH, "unhandled KVM exit reason " + u.reason());
        };
    }

    private void mmio(MemorySegment run, byte[] data) {
        long address = KvmRunLayout.mmioAddress(run);
        if (KvmRunLayout.mmioIsWrite(run)) {
            KvmRunLayout.mmioDataTo(run, data);
            bus.dispatch(address, data, true);
        } else {
            bus.dispatch(address, data, false); // the bus zero-fills holes
            KvmRunLayout.mmioDataFrom(data, run);
        }
    }

    private void mmio(VcpuExit.Mmio m) {
        MemorySegment seg = m.data();
        byte[] data = new byte[m.length()];
        if (m.isWrite()) {
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 0, data, 0, data.length);
            bus.dispatch(m.address(), data, true);
        } else {
            bus.dispatch(m.address(), data, false); // the bus zero-fills holes
            MemorySegment.copy(data, 0, seg, ValueLayout.JAVA_BYTE, 0, data.length);
        }
    }

    private Action systemEvent(VcpuExit.SystemEvent e) {
        return switch (e.type()) {
            case VcpuExit.SystemEvent.SHUTDOWN ->
                    stop(VmResult.Reason.POWEROFF, "guest powered off (PSCI SYSTEM_OFF)");
            case VcpuExit.SystemEvent.RESET ->
                    stop(
                            VmResult.Reason.RESET,
                            onReset == VmConfig.OnReset.REBOOT
                                    ? "guest reset: rebooting in place"
                                    : "guest reset (PSCI SYSTEM_RESET)");
            case VcpuExit.SystemEvent.CRASH ->
                    stop(VmResult.Reason.PANIC, "guest reported a crash (KVM_SYSTEM_EVENT_CRASH)");
            // WFI-suspend and wake-up events only arrive if jvmm enables them; treat any other as a
            // crash
            default -> stop(VmResult.Reason.CRASH, "unhandled KVM system event " + e.type());
        };
    }

    private static Action stop(VmResult.Reason reason, String detail) {
        return new Action.Stop(VmResult.of(reason, detail));
    }
}
