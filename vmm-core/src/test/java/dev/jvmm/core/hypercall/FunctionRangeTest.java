package dev.jvmm.core.hypercall;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class FunctionRangeTest {
    @Test
    void parsesTheThreeForms() {
        assertEquals(
                new FunctionRange(0xC400_0020L, 0xC400_003FL),
                FunctionRange.parse("0xC4000020-0xC400003F"));
        assertEquals(
                new FunctionRange(0xC400_0020L, 0xC400_003FL),
                FunctionRange.parse("0xc4000020+32"));
        assertEquals(
                new FunctionRange(0x8600_0001L, 0x8600_0001L), FunctionRange.parse(" 0x86000001 "));
        assertEquals(new FunctionRange(10, 12), FunctionRange.parse("10-12"));
        assertEquals(32, FunctionRange.parse("0xC4000020+32").count());
        assertEquals(
                new FunctionRange(0xFFFF_FFFFL, 0xFFFF_FFFFL), FunctionRange.parse("0xFFFFFFFF+1"));
    }

    @Test
    void badTextIsOneLineNamingTheValue() {
        for (String bad :
                new String[] {
                    "", "zz", "0x10-0x5", "0x5+0", "0xFFFFFFFF+2", "0x100000000", "-1", "1-", "+3"
                }) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class, () -> FunctionRange.parse(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void overlapAdjacencyAndArchCalls() {
        FunctionRange a = new FunctionRange(10, 19),
                b = new FunctionRange(20, 29),
                c = new FunctionRange(19, 25);
        assertFalse(a.overlaps(b));
        assertTrue(a.adjoins(b));
        assertTrue(a.overlaps(c));
        assertFalse(new FunctionRange(10, 18).adjoins(b));
        assertEquals(new FunctionRange(10, 29), a.span(b));
        assertTrue(FunctionRange.parse("0x8000FFFF-0x80010000").overlapsArchCalls());
        assertTrue(FunctionRange.parse("0xC0000000").overlapsArchCalls());
        assertFalse(FunctionRange.parse("0x80010000-0x8001FFFF").overlapsArchCalls());
        assertFalse(FunctionRange.parse("0xC4000020+32").overlapsArchCalls());
    }

    @Test
    void printsHex() {
        assertEquals("0xC4000020-0xC400003F", FunctionRange.parse("0xC4000020+32").toString());
        assertEquals("0x86000000", FunctionRange.single(0x8600_0000L).toString());
    }
}
