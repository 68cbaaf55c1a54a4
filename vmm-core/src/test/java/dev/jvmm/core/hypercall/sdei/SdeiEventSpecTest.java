package dev.jvmm.core.hypercall.sdei;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class SdeiEventSpecTest {
    @Test
    void parsesTheCliForm() {
        assertEquals(
                new SdeiEventSpec(100, false, false), SdeiEventSpec.parse("100,private,normal"));
        assertEquals(
                new SdeiEventSpec(0x200, true, true),
                SdeiEventSpec.parse("0x200, Shared, CRITICAL"));
        assertEquals("100,private,normal", SdeiEventSpec.parse("100,private,normal").toString());
    }

    @Test
    void badValuesAreOneLineNamingTheProblem() {
        assertMessage("bad --sdei-event '100,private': expected 3 fields", "100,private");
        assertMessage(
                "bad --sdei-event '0,private,normal': event number 0 is not in 1..2147483647 (event 0 is built in)",
                "0,private,normal");
        assertMessage(
                "bad --sdei-event 'x,private,normal': 'x' is not a number", "x,private,normal");
        assertMessage(
                "bad --sdei-event '5,public,normal': type 'public' is not shared or private",
                "5,public,normal");
        assertMessage(
                "bad --sdei-event '5,shared,high': priority 'high' is not normal or critical",
                "5,shared,high");
        assertMessage(
                "bad --sdei-event '4294967296,shared,normal': event number 4294967296 is not in 1..2147483647",
                "4294967296,shared,normal");
    }

    private static void assertMessage(String prefix, String value) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> SdeiEventSpec.parse(value));
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void onlyEvent0IsSignalable() {
        assertTrue(SdeiEventSpec.EVENT_0.signalable());
        assertFalse(SdeiEventSpec.EVENT_0.shared());
        assertFalse(SdeiEventSpec.EVENT_0.critical());
        assertFalse(SdeiEventSpec.parse("1,private,normal").signalable());
    }
}
