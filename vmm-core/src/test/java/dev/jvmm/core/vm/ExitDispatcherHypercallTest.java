package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.arch.DeviceTreeInput;
import dev.jvmm.core.device.MmioBus;
import dev.jvmm.core.hypercall.FakeRegisters;
import dev.jvmm.core.hypercall.FunctionRange;
import dev.jvmm.core.hypercall.HypercallConfig;
import dev.jvmm.core.hypercall.HypercallServices;
import dev.jvmm.core.hypercall.sdei.HandlerPstate;
import dev.jvmm.core.hypercall.sdei.Sdei;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.VcpuExit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Hypercall exits reach the router with the exiting vCPU's index and registers; the loop continues.
 */
class ExitDispatcherHypercallTest {
    /** One vCPU's register file as the vCPU thread hands it over. */
    static final class Regs implements ExitDispatcher.VcpuRegisters {
        final int cpu;
        final FakeRegisters regs = new FakeRegisters().context(0x4000, 0x3c5);

        Regs(int cpu) {
            this.cpu = cpu;
        }

        @Override
        public int cpu() {
            return cpu;
        }

        @Override
        public long get(long regId) {
            return regs.get(regId);
        }

        @Override
        public void set(long regId, long value) {
            regs.set(regId, value);
        }
    }

    private static HypercallServices services(HypercallConfig cfg) {
        return HypercallServices.build(
                cfg,
                new HypercallServices.Platform(
                        DeviceTreeInput.kvmDefaultMpidrs(2),
                        HandlerPstate.PLAIN,
                        0x8000_0000L,
                        256L << 20,
                        0x3,
                        0));
    }

    @Test
    void sdeiCallsReachTheDispatcherForTheCallingVcpu() {
        HypercallServices s = services(new HypercallConfig(true, List.of(), List.of(), false));
        ExitDispatcher d =
                new ExitDispatcher(
                        new MmioBus(), ExitDispatcher.routeTo(s.router()), VmConfig.OnReset.EXIT);
        Regs cpu1 = new Regs(1);
        cpu1.regs.call(Sdei.PE_UNMASK);
        ExitDispatcher.Action a =
                d.handle(new VcpuExit.Hypercall(Sdei.PE_UNMASK & 0xffff_ffffL, false, 0), cpu1);
        assertInstanceOf(ExitDispatcher.Action.Continue.class, a);
        assertEquals(0, cpu1.regs.x(0));
        assertFalse(s.sdei().orElseThrow().isMasked(1), "vCPU 1 unmasked, not vCPU 0");
        assertTrue(s.sdei().orElseThrow().isMasked(0));
        assertEquals(0x4000, cpu1.regs.pc(), "the PC is KVM's business");
        assertEquals(1L, s.router().callCounts().get(0xC400002CL));
    }

    @Test
    void deniedAndUnknownCallsGetNotSupportedAndAreCounted() {
        HypercallServices s =
                services(
                        new HypercallConfig(
                                false,
                                List.of(),
                                List.of(FunctionRange.parse("0xC5000020+2")),
                                false));
        ExitDispatcher d =
                new ExitDispatcher(
                        new MmioBus(), ExitDispatcher.routeTo(s.router()), VmConfig.OnReset.EXIT);
        Regs r = new Regs(0);
        d.handle(new VcpuExit.Hypercall(0xC5000021L, true, 1), r);
        assertEquals(-1L, r.regs.x(0));
        List<Long> written = new ArrayList<>(r.regs.writes);
        assertEquals(List.of(RegIds.x(0), RegIds.x(1), RegIds.x(2), RegIds.x(3)), written);
        assertEquals(1L, s.router().callCounts().get(0xC5000021L));
    }
}
