package dev.jvmm.core.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jvmm.core.JvmmException.Kind;
import dev.jvmm.core.arch.aarch64.GicRegisters.Reg;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.StateJson;
import dev.jvmm.kvm.PendingSError;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The arm64 snapshot records' checks without KVM: what a damaged or hostile record, or one from a
 * host whose KVM had more, is refused with (or, for a zero-valued register this host lacks,
 * accepted), and that the records survive the JSON codec.
 */
class ArchSnapshotRecordsTest {
    private static final long X0 = RegIds.x(0);
    private static final long TPIDR = RegIds.TPIDR_EL1;

    /** An IMPLEMENTATION DEFINED encoding no KVM lists. */
    private static final long ABSENT = RegIds.sysReg(3, 7, 15, 15, 7);

    private static VcpuState.Register reg(long id, long value) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) b[i] = (byte) (value >>> (8 * i));
        return new VcpuState.Register(id, b);
    }

    @Test
    void aRegisterThisHostLacksIsSkippedWhenZero() {
        List<VcpuState.Register> writes =
                VcpuSnapshot.writesFor(
                        "vcpu.0",
                        List.of(reg(X0, 7), reg(ABSENT, 0), reg(TPIDR, 9)),
                        Set.of(X0, TPIDR));
        assertEquals(List.of(X0, TPIDR), writes.stream().map(VcpuState.Register::id).toList());
    }

    /**
     * Linux 6.12 lists PIRE0_EL1 (S3_0_C10_C2_2) for a guest without FEAT_S1PIE, holding KVM's
     * UNKNOWN-reset marker; a 7.x KVM does not list it. Seen restoring a 6.12 snapshot under 7.3.4.
     */
    @Test
    void aRegisterThisHostLacksIsSkippedWhenTheGuestNeverWroteIt() {
        long pire0 = RegIds.sysReg(3, 0, 10, 2, 2);
        List<VcpuState.Register> writes =
                VcpuSnapshot.writesFor(
                        "vcpu.0", List.of(reg(X0, 7), reg(pire0, 0x1de7ec7edbadc0deL)), Set.of(X0));
        assertEquals(List.of(X0), writes.stream().map(VcpuState.Register::id).toList());
        // one bit off is a value the guest wrote
        assertThrows(
                SnapshotException.class,
                () ->
                        VcpuSnapshot.writesFor(
                                "vcpu.0", List.of(reg(pire0, 0x1de7ec7edbadc0dfL)), Set.of(X0)));
    }

    @Test
    void aRegisterThisHostLacksIsRefusedByNameWhenNonZero() {
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () ->
                                VcpuSnapshot.writesFor(
                                        "vcpu.1",
                                        List.of(reg(X0, 7), reg(RegIds.VENDOR_HYP_BMAP_2, 1)),
                                        Set.of(X0)));
        assertEquals(Kind.HOST_UNSUPPORTED, e.errorKind());
        assertEquals(
                "snapshot: vcpu.1: the guest had register vendor_hyp_bmap_2 = 0x1, which this"
                        + " host's KVM does not have; restore on a host whose KVM lists it",
                e.getMessage());
    }

    @Test
    void malformedRegistersAreRefusedBeforeAnyWrite() {
        Set<Long> here = Set.of(X0, TPIDR);
        assertEquals(
                "snapshot: vcpu.0: register x0 has 4 bytes, its id says 8",
                refused(List.of(new VcpuState.Register(X0, new byte[4])), here));
        assertEquals(
                "snapshot: vcpu.0: register tpidr_el1 appears twice",
                refused(List.of(reg(TPIDR, 1), reg(TPIDR, 2)), here));
        assertEquals(
                "snapshot: vcpu.0: register cntvct_el0 belongs to the counter part",
                refused(List.of(reg(RegIds.CNTVCT_EL0, 1)), Set.of(RegIds.CNTVCT_EL0)));
        assertEquals(
                "snapshot: vcpu.0: a register without id or value",
                refused(List.of(new VcpuState.Register(X0, null)), here));
    }

    private static String refused(List<VcpuState.Register> regs, Set<Long> here) {
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () -> VcpuSnapshot.writesFor("vcpu.0", regs, here));
        assertEquals(Kind.USAGE, e.errorKind());
        return e.getMessage();
    }

    @Test
    void powerOffIsNotAFeatureOfTheState() {
        assertEquals(
                1 << 2 | 1 << 4,
                VcpuSnapshot.featureMask(
                        new int[] {
                            Vcpu.FEATURE_POWER_OFF, Vcpu.FEATURE_PSCI_0_2, Vcpu.FEATURE_SVE
                        }));
    }

    @Test
    void aVcpuStateSurvivesTheJsonCodec() {
        byte[] z = new byte[256];
        z[0] = 1;
        z[255] = (byte) 0x80;
        VcpuState s =
                new VcpuState(
                        1,
                        0x14,
                        List.of(reg(X0, -1), new VcpuState.Register(RegIds.sveZReg(3, 0), z)),
                        5,
                        new PendingSError(true, true, 0x1234));
        VcpuState back = StateJson.read(StateJson.write(s), VcpuState.class, "vcpu.1");
        assertEquals(s.id(), back.id());
        assertEquals(s.features(), back.features());
        assertEquals(s.mpState(), back.mpState());
        assertEquals(s.serror(), back.serror());
        assertEquals(2, back.registers().size());
        for (int i = 0; i < 2; i++) {
            assertEquals(s.registers().get(i).id(), back.registers().get(i).id());
            assertArrayEquals(s.registers().get(i).value(), back.registers().get(i).value());
        }
    }

    @Test
    void anotherCounterFrequencyIsRefusedWithBothValues() {
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () ->
                                CounterSnapshot.requireFrequency(
                                        new CounterState(5, 62_500_000), 1_000_000_000));
        assertEquals(Kind.HOST_UNSUPPORTED, e.errorKind());
        assertEquals(
                "snapshot: counter: the guest's counter ran at 62500000 Hz, this host's runs at"
                        + " 1000000000 Hz (KVM cannot rescale it); restore on a host with the same"
                        + " counter frequency",
                e.getMessage());
        SnapshotException zero =
                assertThrows(
                        SnapshotException.class,
                        () -> CounterSnapshot.requireFrequency(new CounterState(5, 0), 0));
        assertEquals(Kind.USAGE, zero.errorKind());
        CounterSnapshot.requireFrequency(new CounterState(5, 62_500_000), 62_500_000);
    }

    @Test
    void gicRegistersMustBeExactlyTheExpectedOnes() {
        List<Reg> expected = List.of(GicRegisters.GICD_IIDR, GicRegisters.GICD_CTLR);
        Map<Long, Long> ok =
                GicRegisters.check(
                        "gic",
                        "distributor",
                        List.of(new DeviceRegister(0x8, 0x43b), new DeviceRegister(0x0, 0x12)),
                        expected,
                        false);
        assertEquals(Map.of(0x8L, 0x43bL, 0x0L, 0x12L), ok);
        assertEquals(
                "snapshot: gic: distributor: no register at 0x4",
                gicRefused(List.of(new DeviceRegister(0x4, 1)), expected));
        assertEquals(
                "snapshot: gic: distributor: GICD_CTLR is missing",
                gicRefused(List.of(new DeviceRegister(0x8, 1)), expected));
        assertEquals(
                "snapshot: gic: distributor: GICD_IIDR appears twice",
                gicRefused(
                        List.of(new DeviceRegister(0x8, 1), new DeviceRegister(0x8, 2)), expected));
        assertEquals(
                "snapshot: gic: distributor: GICD_CTLR = 0x100000000 does not fit its 32 bits",
                gicRefused(
                        List.of(new DeviceRegister(0x8, 1), new DeviceRegister(0x0, 1L << 32)),
                        expected));
    }

    private static String gicRefused(List<DeviceRegister> saved, List<Reg> expected) {
        return assertThrows(
                        SnapshotException.class,
                        () -> GicRegisters.check("gic", "distributor", saved, expected, false))
                .getMessage();
    }

    @Test
    void theGicRegisterTablesFollowTheArchitecture() {
        // 128 lines: 3 words of SPIs per 1-bit register, 96 IROUTERs as 192 words, 6 ICFGR words
        List<Reg> config = GicRegisters.distributorConfig(128);
        assertEquals(1 + 3 + 3 + 192 + 6, config.size());
        assertEquals(0x84, config.get(1).offset(), "GICD_IGROUPR1: SPIs 32..63");
        assertEquals(0x6000 + 8 * 32, config.get(7).offset(), "GICD_IROUTER32");
        assertEquals(0xc08, config.get(config.size() - 6).offset(), "GICD_ICFGR2: SPIs 32..47");
        assertEquals(0x184, config.get(4).clearTwin(), "GICD_ICENABLER1");
        // PRIbits 4 (5 bits): one AP0R and one AP1R; 7 bits: four of each
        assertEquals(9, GicRegisters.cpuInterface(4 << 8).size());
        assertEquals(15, GicRegisters.cpuInterface(6 << 8).size());
        // ICC_PMR_EL1 is S3_0_C4_C6_0
        assertEquals(
                3 << 14 | 4 << 7 | 6 << 3,
                GicRegisters.cpuInterface(0).stream()
                        .filter(r -> r.name().equals("ICC_PMR_EL1"))
                        .findFirst()
                        .orElseThrow()
                        .offset());
    }
}
