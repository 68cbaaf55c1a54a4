package dev.jvmm.core.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.aarch64.CpuFeatures.Irqchip;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.Snapshottable;
import dev.jvmm.core.snapshot.StateJson;
import dev.jvmm.kvm.Device;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.VcpuExit;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.sys.HostCounter;
import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.testing.A64;
import dev.jvmm.kvm.testing.KvmTest;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The arm64 snapshot parts on real KVM (kvm tier): a guest puts state in its registers, its timer
 * and the vGIC on machine A; every part is saved to JSON; a fresh machine B gets A's RAM and the
 * parts back from the JSON, saves equal JSON, and its guest continues from the next instruction
 * with the same registers and a counter that continued from A's.
 */
@KvmTest
class ArchSnapshotKvmTest {
    private static final long RAM_SIZE = 2 << 20;
    private static final long MMIO = 0x1000_0000L;
    private static final int SPI = 40;
    private static final long X1 = 0x1111_2222_3333_4444L;
    private static final long TPIDR = 0xA5A5_0000_0000_5A5AL;
    private static final long CVAL = 0x7fff_ffff_ffff_0000L;

    /** Far from where a new VM's counter starts (near 0), so a counter not restored shows. */
    private static final long COUNTER_START = 1L << 40;

    /** The machine's arm64 side as VmBuilder makes it (Aarch64Cpus), on 2 MiB of RAM. */
    private static final class Machine implements AutoCloseable {
        final Kvm kvm = Kvm.open();
        final Vm vm = kvm.createVm(0);
        final Layout layout;
        final MemorySegment ram =
                Libc.mmap(
                        RAM_SIZE,
                        Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS,
                        -1,
                        0,
                        "mmap(guest ram)");
        final List<AutoCloseable> undo = new ArrayList<>();
        final Aarch64Cpus cpus;

        Machine(Irqchip irqchip, int count) {
            layout = new Layout(64 << 20, count);
            vm.setUserMemoryRegion(0, 0, layout.ramBase(), ram);
            cpus =
                    Aarch64Cpus.create(
                            kvm,
                            vm,
                            layout,
                            count,
                            new CpuFeatures(irqchip, false, true, true, false),
                            true,
                            undo);
        }

        Vcpu vcpu0() {
            return cpus.vcpus().get(0);
        }

        /** Every part's state as JSON, by key. */
        Map<String, String> save() {
            Map<String, String> out = new LinkedHashMap<>();
            for (Snapshottable<?> p : cpus.stateParts())
                out.put(p.stateKey(), StateJson.write(p.saveState()));
            return out;
        }

        /** Guest RAM first (the vGIC and ITS read tables from it), then the parts in order. */
        void restore(MemorySegment fromRam, Map<String, String> json) {
            MemorySegment.copy(fromRam, 0, ram, 0, RAM_SIZE);
            for (Snapshottable<?> p : cpus.stateParts()) restore(p, json.get(p.stateKey()));
        }

        private static <S extends Record> void restore(Snapshottable<S> p, String json) {
            p.restoreState(StateJson.read(json, p.stateType(), p.stateKey()));
        }

        @Override
        public void close() {
            for (int i = undo.size() - 1; i >= 0; i--) {
                try {
                    undo.get(i).close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
            vm.close();
            Libc.munmap(ram);
            kvm.close();
        }
    }

    /**
     * Sets recognisable state, stops on an MMIO write (where A is saved), then reports TPIDR_EL1,
     * SP, VBAR_EL1, CNTVCT_EL0 and x1 by MMIO writes and powers off.
     */
    private static byte[] guest(Layout layout) {
        long dist = layout.gicDist().base();
        return new A64()
                .mov64(1, X1)
                .mov64(2, TPIDR)
                .emit(A64.msr(3, 0, 13, 0, 4, 2)) // tpidr_el1
                .mov64(3, layout.ramBase() + 0x10000)
                .emit(A64.movToSp(3))
                .mov64(4, layout.ramBase() + 0x800)
                .emit(A64.msr(3, 0, 12, 0, 0, 4)) // vbar_el1
                .mov64(5, CVAL)
                .emit(A64.msr(3, 3, 14, 3, 2, 5)) // cntv_cval_el0
                .mov64(6, 1)
                .emit(A64.msr(3, 3, 14, 3, 1, 6)) // cntv_ctl_el0: enabled
                .mov64(6, 0xf0)
                .emit(A64.msr(3, 0, 4, 6, 0, 6)) // icc_pmr_el1
                .mov64(7, dist + 0x100 + 4 * (SPI / 32)) // GICD_ISENABLER1
                .mov64(8, 1L << (SPI % 32))
                .emit(A64.strW(8, 7, 0))
                .mov64(9, MMIO)
                .emit(A64.strX(1, 9, 0)) // exit 1: saved here
                .emit(A64.mrs(10, 3, 0, 13, 0, 4))
                .emit(A64.strX(10, 9, 0))
                .emit(A64.movFromSp(11))
                .emit(A64.strX(11, 9, 0))
                .emit(A64.mrs(12, 3, 0, 12, 0, 0))
                .emit(A64.strX(12, 9, 0))
                .emit(A64.mrs(13, 3, 3, 14, 0, 2)) // cntvct_el0
                .emit(A64.strX(13, 9, 0))
                .emit(A64.strX(1, 9, 0))
                .mov64(0, 0x84000008L) // PSCI SYSTEM_OFF
                .emit(A64.hvc(0))
                .emit(A64.b(0))
                .bytes();
    }

    private static long mmioWrite(Vcpu v) {
        VcpuExit.Mmio exit = assertInstanceOf(VcpuExit.Mmio.class, v.run());
        assertEquals(MMIO, exit.address());
        assertTrue(exit.isWrite());
        return exit.data().get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    /**
     * KVM completes an MMIO exit (advances the PC) only on the next KVM_RUN: run it, leaving at
     * once.
     */
    private static void completeExit(Vcpu v) {
        v.kick();
        assertInstanceOf(VcpuExit.Interrupted.class, v.run());
    }

    @Test
    void aGuestSavedOnOneMachineContinuesOnAFreshOneWithItsRegistersGicAndCounter()
            throws Exception {
        Map<String, String> saved;
        long savedCount;
        long frequency = HostCounter.frequency();
        try (Machine a = new Machine(Irqchip.GICV3, 2)) {
            byte[] code = guest(a.layout);
            MemorySegment.copy(MemorySegment.ofArray(code), 0, a.ram, 0, code.length);
            for (Vcpu v : a.cpus.vcpus()) v.setOneReg(RegIds.CNTVCT_EL0, COUNTER_START);
            a.vcpu0().setOneReg(RegIds.PC, a.layout.ramBase());
            // a level-triggered SPI asserted by a device: pending, and enabled by the guest
            a.vm.irqLine(
                    KvmUapi.KVM_ARM_IRQ_TYPE_SPI() << KvmUapi.KVM_ARM_IRQ_TYPE_SHIFT() | SPI, true);
            assertEquals(X1, mmioWrite(a.vcpu0()));
            completeExit(a.vcpu0());
            saved = a.save();

            GicState gic = StateJson.read(saved.get("gic"), GicState.class, "gic");
            assertEquals(bit(SPI), levelWord(gic, 32) & bit(SPI), "the SPI's line level is saved");
            VcpuState v1 = StateJson.read(saved.get("vcpu.1"), VcpuState.class, "vcpu.1");
            assertEquals(KvmUapi.KVM_MP_STATE_STOPPED(), v1.mpState(), "vCPU 1 never powered on");
            CounterState counter =
                    StateJson.read(saved.get("counter"), CounterState.class, "counter");
            savedCount = counter.virtualCount();
            assertTrue(savedCount >= COUNTER_START, "saved counter " + savedCount);
            assertEquals(frequency, counter.frequency());

            try (Machine b = new Machine(Irqchip.GICV3, 2)) {
                Map<String, String> tampered = new LinkedHashMap<>(saved);
                tampered.put("vcpu.0", withAbsentZeroRegister(saved.get("vcpu.0")));
                b.restore(a.ram, tampered);
                Map<String, String> again = b.save();
                for (String key : List.of("vcpu.0", "vcpu.1", "gic")) {
                    assertEquals(
                            saved.get(key), again.get(key), key + " saved again after restore");
                }

                Vcpu v = b.vcpu0();
                assertEquals(TPIDR, mmioWrite(v), "tpidr_el1");
                assertEquals(b.layout.ramBase() + 0x10000, mmioWrite(v), "sp");
                assertEquals(b.layout.ramBase() + 0x800, mmioWrite(v), "vbar_el1");
                long count = mmioWrite(v);
                assertTrue(
                        count >= savedCount && count - savedCount < 30 * frequency,
                        "the guest's counter " + count + " continues from " + savedCount);
                assertEquals(X1, mmioWrite(v), "x1");
                assertEquals(CVAL, v.getOneReg(RegIds.CNTV_CVAL_EL0));
                assertEquals(1, v.getOneReg(RegIds.CNTV_CTL_EL0) & 1, "virtual timer enabled");
                assertInstanceOf(VcpuExit.SystemEvent.class, v.run());
            }
        }
    }

    @Test
    void theItsRegistersAndTablesComeBackInKvmsOrder() throws Exception {
        try (Machine a = new Machine(Irqchip.GICV3_ITS, 1)) {
            // what a guest driver programs: device and collection tables, a command queue, enable
            Device dev = a.cpus.gic().its().orElseThrow().device();
            long base = a.layout.ramBase();
            int regs = KvmUapi.KVM_DEV_ARM_VGIC_GRP_ITS_REGS();
            for (int n = 0; n < 2; n++) {
                long off = 0x100 + 8L * n;
                long baser = dev.getAttributeU64(regs, off, "GITS_BASER");
                long table = base + 0x100000 + 0x10000L * n;
                dev.setAttributeU64(regs, off, baser | 1L << 63 | 2L << 8 | table, "GITS_BASER");
            }
            dev.setAttributeU64(regs, 0x80, 1L << 63 | (base + 0x120000), "GITS_CBASER");
            dev.setAttributeU64(regs, 0x0, 1, "GITS_CTLR");
            Map<String, String> saved = a.save();
            ItsState state = StateJson.read(saved.get("its"), ItsState.class, "its");
            assertEquals(1, value(state, 0x0) & 1, "the ITS was enabled: " + saved.get("its"));
            assertNotEquals(0, value(state, 0x80), "GITS_CBASER");

            try (Machine b = new Machine(Irqchip.GICV3_ITS, 1)) {
                b.restore(a.ram, saved);
                Map<String, String> again = b.save();
                assertEquals(saved.get("its"), again.get("its"));
                assertEquals(saved.get("gic"), again.get("gic"));
            }
        }
    }

    @Test
    void aGicStateForAnotherVcpuCountIsRefusedByName() throws Exception {
        String gic;
        try (Machine a = new Machine(Irqchip.GICV3, 2)) {
            gic = a.save().get("gic");
        }
        try (Machine b = new Machine(Irqchip.GICV3, 1)) {
            GicSnapshot part = new GicSnapshot(b.cpus.gic(), b.cpus.vcpus());
            SnapshotException e =
                    assertThrows(
                            SnapshotException.class,
                            () -> part.restoreState(StateJson.read(gic, GicState.class, "gic")));
            assertEquals(
                    "snapshot: gic: the snapshot's GIC has 2 CPU interfaces, this machine has 1"
                            + " vCPUs",
                    e.getMessage());
        }
    }

    /** vcpu.0's JSON with a register no KVM lists (an IMPLEMENTATION DEFINED encoding) at 0. */
    private static String withAbsentZeroRegister(String json) {
        VcpuState s = StateJson.read(json, VcpuState.class, "vcpu.0");
        List<VcpuState.Register> regs = new ArrayList<>(s.registers());
        regs.add(new VcpuState.Register(RegIds.sysReg(3, 7, 15, 15, 7), new byte[8]));
        return StateJson.write(new VcpuState(s.id(), s.features(), regs, s.mpState(), s.serror()));
    }

    private static long bit(int intid) {
        return 1L << (intid % 32);
    }

    private static long levelWord(GicState gic, long intid) {
        return gic.spiLevels().stream()
                .filter(r -> r.offset() == intid)
                .findFirst()
                .orElseThrow()
                .value();
    }

    private static long value(ItsState its, long offset) {
        return its.registers().stream()
                .filter(r -> r.offset() == offset)
                .findFirst()
                .orElseThrow()
                .value();
    }
}
