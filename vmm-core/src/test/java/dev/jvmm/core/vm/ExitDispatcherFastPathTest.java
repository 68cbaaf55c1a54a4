package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.device.MmioBus;
import dev.jvmm.core.device.MmioDevice;
import dev.jvmm.kvm.KvmRunLayout;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.uapi.KvmUapi;
import dev.jvmm.kvm.uapi.kvm_run;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The vCPU loop's path: exits read in place from a synthetic kvm_run by their reason. */
class ExitDispatcherFastPathTest {
    private final MemorySegment run = kvm_run.allocate(Arena.ofAuto());
    private final MmioBuffers buffers = new MmioBuffers();
    private final ExitDispatcherHypercallTest.Regs regs = new ExitDispatcherHypercallTest.Regs(2);
    private final List<String> calls = new ArrayList<>();
    private final MmioBus bus = new MmioBus();
    private final ExitDispatcher dispatcher =
            new ExitDispatcher(
                    bus,
                    (functionId, smc, r) ->
                            calls.add(Long.toHexString(functionId) + (smc ? " smc" : " hvc")),
                    VmConfig.OnReset.EXIT);

    /** A device that answers reads with its last write and records both. */
    private static final class Echo implements MmioDevice {
        final List<String> log = new ArrayList<>();
        byte[] last = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, (byte) 0x88};

        @Override
        public void read(long offset, byte[] data) {
            log.add("r" + offset + "/" + data.length);
            System.arraycopy(last, 0, data, 0, data.length);
        }

        @Override
        public void write(long offset, byte[] data) {
            log.add("w" + offset + "/" + data.length);
            System.arraycopy(data, 0, last, 0, data.length);
        }
    }

    private void mmio(long address, int len, boolean write, long data) {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_MMIO());
        MemorySegment m = kvm_run.mmio(run);
        kvm_run.mmio.phys_addr(m, address);
        kvm_run.mmio.len(m, len);
        kvm_run.mmio.is_write(m, (byte) (write ? 1 : 0));
        kvm_run.mmio.data(m).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, data);
    }

    private ExitDispatcher.Action handle(int reason) {
        return dispatcher.handle(reason, run, buffers, regs);
    }

    private long mmioData() {
        return kvm_run.mmio.data(kvm_run.mmio(run)).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    @Test
    void theFirstExitWaitsForTheWaiterOnceAndLaterExitsDoNot() {
        List<String> order = new ArrayList<>();
        bus.register(
                0x1000,
                0x100,
                new MmioDevice() {
                    @Override
                    public void read(long offset, byte[] data) {}

                    @Override
                    public void write(long offset, byte[] data) {
                        order.add("exit");
                    }
                },
                "dev");
        dispatcher.beforeFirstExit(() -> order.add("waited"));
        mmio(0x1000, 1, true, 1);
        handle(KvmRunLayout.EXIT_MMIO);
        handle(KvmRunLayout.EXIT_INTR);
        mmio(0x1000, 1, true, 2);
        handle(KvmRunLayout.EXIT_MMIO);
        assertEquals(List.of("waited", "exit", "exit"), order);
    }

    @Test
    void mmioWriteReachesTheDeviceAndAReadAnswersIntoKvmRun() {
        Echo echo = new Echo();
        bus.register(0x1000, 0x100, echo, "echo");
        mmio(0x1004, 4, true, 0xffff_ffff_cafe_f00dL);
        assertInstanceOf(ExitDispatcher.Action.Continue.class, handle(KvmRunLayout.EXIT_MMIO));
        mmio(0x1008, 2, false, -1L);
        handle(KvmRunLayout.EXIT_MMIO);
        assertEquals(List.of("w4/4", "r8/2"), echo.log);
        // only the access's two bytes are answered; the rest of kvm_run.mmio.data is untouched
        assertEquals(0xffff_ffff_ffff_f00dL, mmioData());
        assertArrayEquals(
                new byte[] {0x0d, (byte) 0xf0, (byte) 0xfe, (byte) 0xca}, buffers.ofLength(4));
    }

    @Test
    void aReadFromAHoleIsZero() {
        mmio(0x9000, 8, false, -1L);
        handle(KvmRunLayout.EXIT_MMIO);
        assertEquals(0, mmioData());
    }

    @Test
    void anMmioLengthKvmNeverReportsStopsTheVmInsteadOfIndexingOutOfTheBuffers() {
        for (int bad : new int[] {9, -1, Integer.MAX_VALUE}) {
            mmio(0x1000, bad, false, 0);
            var stop =
                    assertInstanceOf(
                            ExitDispatcher.Action.Stop.class, handle(KvmRunLayout.EXIT_MMIO));
            assertEquals(VmResult.Reason.CRASH, stop.result().reason());
        }
        // 3 bytes: within kvm_run's data but no bus access size; refused as before (a VMM error)
        mmio(0x1000, 3, false, 0);
        assertThrows(IllegalArgumentException.class, () -> handle(KvmRunLayout.EXIT_MMIO));
    }

    @Test
    void hypercallsCarryTheFunctionIdAndWhetherItWasAnSmc() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_HYPERCALL());
        MemorySegment h = kvm_run.hypercall(run);
        kvm_run.hypercall.nr(h, 0xC4000020L);
        kvm_run.hypercall.flags(h, 0);
        handle(KvmRunLayout.EXIT_HYPERCALL);
        kvm_run.hypercall.flags(h, KvmRunLayout.HYPERCALL_SMC);
        handle(KvmRunLayout.EXIT_HYPERCALL);
        assertEquals(List.of("c4000020 hvc", "c4000020 smc"), calls);
    }

    @Test
    void notSupportedAnswersInX0() {
        ExitDispatcher d =
                new ExitDispatcher(
                        bus, ExitDispatcher.notSupported(RegIds.x(0)), VmConfig.OnReset.EXIT);
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_HYPERCALL());
        d.handle(KvmRunLayout.EXIT_HYPERCALL, run, buffers, regs);
        assertEquals(ExitDispatcher.SMCCC_NOT_SUPPORTED, regs.regs.x(0));
    }

    @Test
    void theRareExitsAreDecodedAndHandledAsBefore() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_SYSTEM_EVENT());
        kvm_run.system_event.type(kvm_run.system_event(run), KvmUapi.KVM_SYSTEM_EVENT_SHUTDOWN());
        var off =
                assertInstanceOf(
                        ExitDispatcher.Action.Stop.class, handle(KvmRunLayout.EXIT_SYSTEM_EVENT));
        assertEquals(VmResult.Reason.POWEROFF, off.result().reason());

        kvm_run.exit_reason(run, 0x7777);
        var unknown = assertInstanceOf(ExitDispatcher.Action.Stop.class, handle(0x7777));
        assertTrue(unknown.result().detail().contains("30583"), unknown.result().detail());

        assertSame(handle(KvmRunLayout.EXIT_INTR), handle(KvmRunLayout.EXIT_INTR));
        assertFalse(handle(KvmRunLayout.EXIT_INTR) instanceof ExitDispatcher.Action.Stop);
    }
}
