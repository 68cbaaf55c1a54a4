package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jvmm.core.api.ControlException;
import dev.jvmm.core.api.VmStatus;
import dev.jvmm.core.arch.DeviceTreeInput;
import dev.jvmm.core.device.ConsoleOutput;
import dev.jvmm.core.device.IrqLine;
import dev.jvmm.core.device.Uart8250Device;
import dev.jvmm.core.firmware.FirmwareSetup;
import dev.jvmm.core.firmware.StolenTimeRecords;
import dev.jvmm.core.hypercall.FakeRegisters;
import dev.jvmm.core.hypercall.HypercallConfig;
import dev.jvmm.core.hypercall.HypercallServices;
import dev.jvmm.core.hypercall.sdei.HandlerPstate;
import dev.jvmm.core.hypercall.sdei.Sdei;
import dev.jvmm.core.hypercall.sdei.SdeiEventSpec;
import dev.jvmm.core.hypercall.shared.SharedRegionService;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The adapter over a Machine with no vCPUs and no KVM handles: what status reports before, during
 * and after a run, that stop ends the run with STOPPED_BY_API, and the refusals of the unbuilt
 * services.
 */
class MachineControlTest {
    private final VmConfig config =
            new VmConfig(
                    "console=ttyS0",
                    3,
                    512L << 20,
                    VmConfig.OnReset.EXIT,
                    null,
                    OutputStream.nullOutputStream());

    /** Enough of a Machine for run() and the control API: no KVM handles, so it is never closed. */
    private final Machine machine =
            new Machine(
                    null,
                    null,
                    null,
                    null,
                    List.of(),
                    new Uart8250Device(IrqLine.NONE, OutputStream.nullOutputStream()),
                    null,
                    ConsoleOutput.start(OutputStream.nullOutputStream()),
                    VirtioDevices.none(),
                    null,
                    config,
                    () -> {},
                    new FirmwareSetup(),
                    null,
                    null,
                    HypercallServices.none(),
                    List.of());

    private final MachineControl control = new MachineControl(machine, "/images/Image");

    @Test
    void statusBeforeTheRunIsStarting() {
        VmStatus s = control.status();
        assertEquals(
                new VmStatus(
                        VmStatus.State.STARTING,
                        3,
                        512L << 20,
                        Duration.ZERO,
                        ProcessHandle.current().pid(),
                        "/images/Image"),
                s);
    }

    @Test
    void stopEndsTheRunWithStoppedByApiAndStatusSaysStopping() throws InterruptedException {
        control.stop();
        assertEquals(VmStatus.State.STOPPING, control.status().state());
        VmResult r = machine.run(); // returns at once: the stop came first
        assertEquals(VmResult.Reason.STOPPED_BY_API, r.reason());
        assertEquals("stopped through the control API", r.detail());
        assertEquals(VmStatus.State.STOPPING, control.status().state());
        assertEquals(true, machine.hasStarted());
    }

    @Test
    void runningUntilTheApiStopsIt() throws Exception {
        java.util.concurrent.CompletableFuture<VmResult> result =
                new java.util.concurrent.CompletableFuture<>();
        Thread runner =
                Thread.ofPlatform()
                        .start(
                                () -> {
                                    try {
                                        result.complete(machine.run());
                                    } catch (Throwable t) {
                                        result.completeExceptionally(t);
                                    }
                                });
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (control.status().state() != VmStatus.State.RUNNING) {
            if (System.nanoTime() > deadline)
                throw new AssertionError("never RUNNING: " + control.status());
            Thread.sleep(5);
        }
        Thread.sleep(30);
        assertEquals(true, control.status().uptime().toMillis() >= 30, control.status().toString());
        control.stop();
        assertEquals(
                VmResult.Reason.STOPPED_BY_API,
                result.get(10, java.util.concurrent.TimeUnit.SECONDS).reason());
        runner.join();
    }

    @Test
    void aLaterStopDoesNotOverrideTheFirstReason() throws InterruptedException {
        machine.stop(VmResult.signal(15, "stopped by SIGTERM"));
        control.stop();
        assertEquals(VmResult.Reason.SIGNAL, machine.run().reason());
    }

    @Test
    void stolenTimeIsEachRecordsLittleEndianCounter() {
        MemorySegment mem = Arena.ofAuto().allocate(3 * StolenTimeRecords.RECORD_BYTES, 8);
        mem.set(
                ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN),
                8,
                0x0102030405L);
        mem.set(
                ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN),
                2 * 64 + 8,
                7);
        mem.set(
                ValueLayout.JAVA_INT_UNALIGNED,
                64,
                -1); // revision/attributes of record 1: not the counter
        assertEquals(
                List.of(
                        new dev.jvmm.core.api.VcpuStolenTime(0, 0x0102030405L),
                        new dev.jvmm.core.api.VcpuStolenTime(1, 0),
                        new dev.jvmm.core.api.VcpuStolenTime(2, 7)),
                MachineControl.stolenTime(new StolenTimeRecords(mem, 0x9000_0000L, 3)));
    }

    @Test
    void servicesTheVmWasBuiltWithoutSayNotAvailable() {
        assertEquals(
                "not available in this VM: SDEI is off (run it with --sdei)",
                assertThrows(ControlException.class, () -> control.sdeiSignal(0, 0)).getMessage());
        assertEquals(
                "not available in this VM: the shared-region service is off (run it with --shared-regions)",
                assertThrows(ControlException.class, () -> control.sharedRegions(0, 10))
                        .getMessage());
        assertEquals(
                "not available in this VM: PV stolen time is off (--no-pvtime, --hypercalls without pv-time,"
                        + " or the host lacks it)",
                assertThrows(ControlException.class, control::stolenTime).getMessage());
        assertEquals(
                new dev.jvmm.core.api.HypercallStats(List.of(), 0),
                control.hypercallStats(),
                "nothing forwarded");
    }

    @Test
    void hypercallServicesAnswerThroughTheApi() throws ControlException {
        HypercallServices hs =
                HypercallServices.build(
                        new HypercallConfig(
                                true,
                                List.of(SdeiEventSpec.parse("100,shared,normal")),
                                List.of(),
                                true),
                        new HypercallServices.Platform(
                                DeviceTreeInput.kvmDefaultMpidrs(2),
                                HandlerPstate.PLAIN,
                                0x8000_0000L,
                                64L << 20,
                                0x3,
                                0));
        Machine m =
                new Machine(
                        null,
                        null,
                        null,
                        null,
                        List.of(),
                        new Uart8250Device(IrqLine.NONE, OutputStream.nullOutputStream()),
                        null,
                        ConsoleOutput.start(OutputStream.nullOutputStream()),
                        VirtioDevices.none(),
                        null,
                        config,
                        () -> {},
                        new FirmwareSetup(),
                        null,
                        null,
                        hs,
                        List.of());
        MachineControl c = new MachineControl(m, null);
        // the guest registers event 0 on vCPU 1 and shares two granules
        FakeRegisters regs = new FakeRegisters().call(Sdei.EVENT_REGISTER, 0, 0x1000, 0, 0, 0);
        hs.router().handle(1, Sdei.EVENT_REGISTER, false, regs);
        regs.call(SharedRegionService.MEM_SHARE, 0x8010_0000L, 2, 0);
        hs.router().handle(0, SharedRegionService.MEM_SHARE, false, regs);

        c.sdeiSignal(0, 1);
        assertEquals(
                true, m.sdeiState().orElseThrow().events().get(0).instances().get(1).pending());
        assertEquals(
                "SDEI event 0 is not registered by the guest on vCPU 0: the signal was dropped",
                assertThrows(ControlException.class, () -> c.sdeiSignal(0, 0)).getMessage());
        assertEquals(
                "SDEI event 100 is not registered by the guest: the signal was dropped",
                assertThrows(ControlException.class, () -> c.sdeiSignal(100, 0)).getMessage());
        assertEquals(
                "no SDEI event 7; this VM offers [0, 100]",
                assertThrows(ControlException.class, () -> c.sdeiSignal(7, 0)).getMessage());
        assertEquals(
                "no SDEI event 4294967295; this VM offers [0, 100]",
                assertThrows(ControlException.class, () -> c.sdeiSignal(0xFFFF_FFFFL, 0))
                        .getMessage());
        assertEquals(
                "no vCPU 5 for private SDEI event 0 (the VM has 2)",
                assertThrows(ControlException.class, () -> c.sdeiSignal(0, 5)).getMessage());
        assertEquals(
                new dev.jvmm.core.api.SharedRegionPage(
                        List.of(new dev.jvmm.core.api.SharedRegion(0x8010_0000L, 0x2000)),
                        1,
                        0x2000,
                        java.util.OptionalLong.empty()),
                c.sharedRegions(0, 1024));
        assertEquals(
                new dev.jvmm.core.api.HypercallStats(
                        List.of(
                                new dev.jvmm.core.api.HypercallCount(
                                        0xC4000021L, "SDEI_EVENT_REGISTER", 1),
                                new dev.jvmm.core.api.HypercallCount(0xC6000003L, "MEM_SHARE", 1)),
                        0),
                c.hypercallStats());
    }
}
