package dev.jvmm.core.hypercall.sdei;

import static dev.jvmm.core.hypercall.sdei.HandlerPstate.*;
import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class HandlerPstateTest {
    @Test
    void plainCpuGivesEl1hWithDaifMasked() {
        assertEquals(
                0x3C5,
                PLAIN.entry(0x6000_0000L, ~0L),
                "flags, SPAN and DSSBS are irrelevant without the features");
        assertEquals(0x3C5, PLAIN.entry(0x0, 0));
        assertEquals(0x3C5 | PSTATE_DIT, PLAIN.entry(PSTATE_DIT, 0), "DIT is kept");
        assertEquals(
                0x3C5 | PSTATE_PAN,
                PLAIN.entry(PSTATE_PAN, 0),
                "without PAN support the bit is carried over");
        assertFalse(PLAIN.needsSctlr());
    }

    @Test
    void panForcedOnlyWhenSpanIsClear() {
        HandlerPstate pan = new HandlerPstate(true, false, false);
        assertEquals(0x3C5 | PSTATE_PAN, pan.entry(0, 0));
        assertEquals(
                0x3C5,
                pan.entry(0, SCTLR_SPAN),
                "SPAN set: PAN kept from the interrupted context (0)");
        assertEquals(0x3C5 | PSTATE_PAN, pan.entry(PSTATE_PAN, SCTLR_SPAN));
        assertTrue(pan.needsSctlr());
    }

    @Test
    void ssbsFromDssbsAndTcoWithMte() {
        HandlerPstate s = new HandlerPstate(false, true, false);
        assertEquals(0x3C5 | PSTATE_SSBS, s.entry(0, SCTLR_DSSBS));
        assertEquals(0x3C5, s.entry(PSTATE_SSBS, 0), "SSBS is not inherited");
        assertEquals(0x3C5 | PSTATE_TCO, new HandlerPstate(false, false, true).entry(0, 0));
    }

    @Test
    void featuresFromIdRegisters() {
        assertEquals(PLAIN, fromIdRegisters(0, 0));
        assertEquals(
                new HandlerPstate(true, true, true),
                fromIdRegisters(0x3L << 20, 0x2L << 4 | 0x2L << 8));
        assertEquals(
                new HandlerPstate(false, false, false),
                fromIdRegisters(0, 0x1L << 8),
                "MTE 1 (EL0 instructions only) has no TCO");
    }
}
