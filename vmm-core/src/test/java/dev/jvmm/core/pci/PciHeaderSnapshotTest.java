package dev.jvmm.core.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.snapshot.StateJson;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A PCI function's config space across a snapshot: what the guest changed comes back, as placed.
 */
class PciHeaderSnapshotTest {
    private static final long BAR = 0x4000;

    private final List<String> moves = new ArrayList<>();

    private PciHeader header() {
        PciHeader h = new PciHeader(0x1042_1af4, 0x0180_0001, 0x0002_1af4, BAR, new byte[0]);
        h.setBarListener((from, to) -> moves.add(String.format("%x->%x", from, to)));
        return h;
    }

    @Test
    void whatTheGuestProgrammedComesBackAndTheBarDecodesWhereItWasMoved() {
        PciHeader h = header();
        h.configWrite(PciHeader.BAR0, 4, -1); // sizing, as Linux does
        h.configWrite(PciHeader.BAR0, 4, 0x5000_4000);
        h.configWrite(PciHeader.COMMAND, 2, PciHeader.COMMAND_MEMORY);
        h.configWrite(PciHeader.BAR0, 4, 0x6000_8000); // moved while decoding
        h.configWrite(
                PciHeader.COMMAND,
                2,
                PciHeader.COMMAND_MEMORY
                        | PciHeader.COMMAND_BUS_MASTER
                        | PciHeader.COMMAND_INTX_DISABLE);
        h.configWrite(0x0c, 1, 0x10);
        h.configWrite(PciHeader.INTERRUPT_LINE, 1, 37);
        String json = StateJson.write(h.saveState());
        assertEquals(new PciFunctionState(0x406, 0x6000_8000L, 0x10, 37), h.saveState());

        moves.clear();
        PciHeader r = header();
        PciFunctionState s = StateJson.read(json, PciFunctionState.class, "pci");
        assertNull(r.stateProblem(s));
        r.restoreState(s);
        assertEquals(List.of("ffffffffffffffff->60008000"), moves, "mapped once, at the new place");
        assertEquals(0x6000_8000L, r.decoding());
        assertTrue(r.intxDisabled());
        assertEquals(json, StateJson.write(r.saveState()));
        for (int off = 0; off < 0x100; off += 4)
            assertEquals(h.configRead(off, 4), r.configRead(off, 4), "config dword 0x" + off);
    }

    @Test
    void aBarPlacedWithDecodingOffStaysUnmapped() {
        PciHeader h = header();
        h.configWrite(PciHeader.BAR0, 4, 0x5000_0000);
        PciHeader r = header();
        moves.clear();
        r.restoreState(h.saveState());
        assertEquals(List.of(), moves);
        assertEquals(PciHeader.UNMAPPED, r.decoding());
        assertEquals(0x5000_0000, r.configRead(PciHeader.BAR0, 4));
    }

    @Test
    void statesNoGuestCouldReachAreNamed() {
        PciHeader h = header();
        assertEquals(
                "command 0x8 has bits the function does not implement",
                h.stateProblem(new PciFunctionState(0x8, 0, 0, 0)));
        assertEquals(
                "BAR0 0x5000100 is not aligned to its size 0x4000",
                h.stateProblem(new PciFunctionState(0, 0x500_0100, 0, 0)));
        assertEquals(
                "BAR0 0x100000000 is not a 32-bit address",
                h.stateProblem(new PciFunctionState(0, 1L << 32, 0, 0)));
        assertEquals(
                "BAR0 0xffffffffffffc000 is not a 32-bit address",
                h.stateProblem(new PciFunctionState(0, -0x4000, 0, 0)));
        assertEquals(
                "cacheLineSize 256 is not a byte",
                h.stateProblem(new PciFunctionState(0, 0, 256, 0)));
        assertEquals(
                "interruptLine -1 is not a byte",
                h.stateProblem(new PciFunctionState(0, 0, 0, -1)));
        assertThrows(
                IllegalArgumentException.class,
                () -> h.restoreState(new PciFunctionState(0x8, 0, 0, 0)));
        assertEquals(PciHeader.UNMAPPED, h.decoding(), "nothing applied");
        assertEquals(0, h.command());
    }

    @Test
    void aFunctionTheGuestUsedIsNotRestoredInto() {
        PciHeader h = header();
        h.configWrite(PciHeader.COMMAND, 2, PciHeader.COMMAND_MEMORY);
        assertThrows(IllegalStateException.class, () -> h.restoreState(h.saveState()));
    }
}
