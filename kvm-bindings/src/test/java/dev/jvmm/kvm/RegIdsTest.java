package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Known ids from the KVM docs and gcc; the exhaustive check against the C macros is
 * BindingsMatchCompilerTest.
 */
class RegIdsTest {

    @Test
    void coreRegisters() {
        assertEquals(0x6030000000100000L, RegIds.x(0));
        assertEquals(0x6030000000100000L, RegIds.byName("x0"));
        assertEquals(0x603000000010003cL, RegIds.byName("x30"));
        assertEquals(0x603000000010003eL, RegIds.SP);
        assertEquals(0x6030000000100040L, RegIds.byName("pc"));
        assertEquals(0x6030000000100042L, RegIds.byName("pstate"));
        assertEquals(0x6030000000100044L, RegIds.byName("sp_el1"));
        assertEquals(0x6030000000100046L, RegIds.byName("elr_el1"));
        assertEquals(0x6030000000100048L, RegIds.spsr(0));
        // fp_regs at offsetof(kvm_regs, fp_regs) = 336: v0 = 336/4 = 0x54, 128-bit
        assertEquals(0x6040000000100054L, RegIds.vreg(0));
        assertEquals(0x60400000001000d0L, RegIds.vreg(31));
        assertEquals(0x60200000001000d4L, RegIds.FPSR);
        assertEquals(0x60200000001000d5L, RegIds.FPCR);
    }

    @Test
    void systemAndFirmwareRegisters() {
        assertEquals(0x603000000013c005L, RegIds.byName("mpidr_el1"));
        assertEquals(0x603000000013c005L, RegIds.byName("S3_0_C0_C0_5"));
        assertEquals(0x603000000013df1aL, RegIds.byName("cntvct_el0")); // KVM_REG_ARM_TIMER_CNT
        assertEquals(0x6030000000140000L, RegIds.byName("psci_version"));
        assertEquals(0x6030000000160000L, RegIds.byName("std_bmap"));
        assertEquals(0x6030000000160001L, RegIds.byName("std_hyp_bmap"));
        assertEquals(0x6030000000160002L, RegIds.byName("vendor_hyp_bmap"));
        assertEquals(0x6030000000160003L, RegIds.byName("vendor_hyp_bmap_2"));
        assertEquals(0x6030000000160000L, RegIds.byName("0x6030000000160000"));
    }

    @Test
    void sveAndSizes() {
        assertEquals(0x6080000000150020L, RegIds.sveZReg(1, 0));
        assertEquals(0x60500000001505ffL, RegIds.svePReg(15, 31));
        assertEquals(0x6050000000150600L, RegIds.sveFfr(0));
        assertEquals(8, RegIds.size(RegIds.PC));
        assertEquals(16, RegIds.size(RegIds.vreg(3)));
        assertEquals(4, RegIds.size(RegIds.FPCR));
        assertEquals(256, RegIds.size(RegIds.sveZReg(0, 0)));
        assertEquals(32, RegIds.size(RegIds.sveFfr(0)));
    }

    @Test
    void namesRoundTrip() {
        RegIds.names().forEach((name, id) -> assertEquals(name, RegIds.nameOf(id), name));
        assertEquals("s3_0_c4_c0_1", RegIds.nameOf(RegIds.sysReg(3, 0, 4, 0, 1)));
        assertEquals("0x0000000000000001", RegIds.nameOf(1));
    }

    @Test
    void unknownNameIsOneLineNamingItAndTheValidForms() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> RegIds.byName("x31"));
        assertTrue(e.getMessage().contains("'x31'"), e.getMessage());
        assertTrue(
                e.getMessage().contains("x0..x30") && e.getMessage().contains("vendor_hyp_bmap_2"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RegIds.byName("s4_0_c0_c0_0"));
        assertThrows(IllegalArgumentException.class, () -> RegIds.x(31));
        assertThrows(IllegalArgumentException.class, () -> RegIds.spsr(5));
    }
}
