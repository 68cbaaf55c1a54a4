package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.device.MmioBus;
import dev.jvmm.core.device.Uart8250Device;
import dev.jvmm.kvm.KvmRunLayout;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.uapi.kvm_run;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * MMIO and hypercall exits allocate nothing on the vCPU thread once warm: the bytes this thread
 * allocates over many decode + dispatch rounds on a synthetic kvm_run stay under a bound that one
 * small object per exit would exceed many times over. Not a timing test: it counts bytes.
 */
class ExitPathAllocationTest {
    private static final int ROUNDS = 20_000;

    /**
     * Slack for whatever the measuring itself or the JVM charges to the thread (a compiled-method
     * transition, a lazily created holder); one 16-byte object per exit would be 80 x this.
     */
    private static final long BOUND_BYTES = 4096;

    private static final long UART = 0x1000;

    /** Registers in an array: the handler's writes must not be what allocates. */
    private static final class ArrayRegisters implements ExitDispatcher.VcpuRegisters {
        final long[] x = new long[32];

        @Override
        public int cpu() {
            return 0;
        }

        @Override
        public long get(long regId) {
            return x[index(regId)];
        }

        @Override
        public void set(long regId, long value) {
            x[index(regId)] = value;
        }

        private static int index(long regId) {
            for (int i = 0; i < 31; i++) if (RegIds.x(i) == regId) return i;
            return 31;
        }
    }

    private final MemorySegment run = kvm_run.allocate(Arena.ofAuto());
    // views made once: the generated accessors slice on every call, the code under test must not
    private final MemorySegment mmio = kvm_run.mmio(run);
    private final MemorySegment call = kvm_run.hypercall(run);
    private final MmioBuffers buffers = new MmioBuffers();
    private final ArrayRegisters regs = new ArrayRegisters();
    private final ExitDispatcher dispatcher;

    ExitPathAllocationTest() {
        MmioBus bus = new MmioBus();
        bus.register(
                UART,
                0x100,
                new Uart8250Device(high -> {}, OutputStream.nullOutputStream()),
                "uart");
        dispatcher =
                new ExitDispatcher(
                        bus, ExitDispatcher.notSupported(RegIds.x(0)), VmConfig.OnReset.EXIT);
    }

    private void mmioRead() {
        setMmio(UART + 5, false); // LSR
        dispatcher.handle(KvmRunLayout.EXIT_MMIO, run, buffers, regs);
    }

    private void mmioWrite() {
        setMmio(UART + 7, true); // the scratch register
        dispatcher.handle(KvmRunLayout.EXIT_MMIO, run, buffers, regs);
    }

    private void hypercall() {
        kvm_run.exit_reason(run, KvmRunLayout.EXIT_HYPERCALL);
        kvm_run.hypercall.nr(call, 0xC4000020L);
        dispatcher.handle(KvmRunLayout.EXIT_HYPERCALL, run, buffers, regs);
    }

    private void interrupted() {
        dispatcher.handle(KvmRunLayout.EXIT_INTR, run, buffers, regs);
    }

    /**
     * Bytes this thread allocates over {@link #ROUNDS} exits of one kind, after as many to warm up.
     */
    private static long allocatedBy(Runnable exit) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);
        for (int i = 0; i < ROUNDS; i++) exit.run(); // interpreter, C1, C2
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < ROUNDS; i++) exit.run();
        return threads.getCurrentThreadAllocatedBytes() - before;
    }

    private void setMmio(long address, boolean write) {
        kvm_run.exit_reason(run, KvmRunLayout.EXIT_MMIO);
        kvm_run.mmio.phys_addr(mmio, address);
        kvm_run.mmio.len(mmio, 1);
        kvm_run.mmio.is_write(mmio, (byte) (write ? 1 : 0));
    }

    @Test
    void mmioAndHypercallExitsAllocateNothingOnceWarm() {
        long read = allocatedBy(this::mmioRead);
        long write = allocatedBy(this::mmioWrite);
        long hypercall = allocatedBy(this::hypercall);
        long interrupted = allocatedBy(this::interrupted);
        String all =
                String.format(
                        "bytes over %d exits: mmio read %d, mmio write %d, hypercall %d,"
                                + " interrupted %d",
                        ROUNDS, read, write, hypercall, interrupted);
        assertTrue(read < BOUND_BYTES, all);
        assertTrue(write < BOUND_BYTES, all);
        assertTrue(hypercall < BOUND_BYTES, all);
        assertTrue(interrupted < BOUND_BYTES, all);
        // and the exits did what they should
        assertEquals(ExitDispatcher.SMCCC_NOT_SUPPORTED, regs.x[0]);
        assertEquals(0x60, buffers.ofLength(1)[0] & 0xff, "LSR: transmitter empty");
    }
}
