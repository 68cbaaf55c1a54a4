package dev.jvmm.core.pci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The MSI-X register model as a guest drives it (Linux's order: enable with the function masked,
 * program each entry masked, unmask) and as a hostile guest pokes it: routes follow enable and both
 * masks, a masked vector's interrupt waits in the PBA until unmasked, and bad accesses change
 * nothing and never throw.
 */
class MsixTableTest {
    private final List<Map<Integer, MsiMessage>> routes = new ArrayList<>();
    private final List<Integer> fired = new ArrayList<>();
    private final MsixTable t =
            new MsixTable(
                    3,
                    new MsixTable.Sink() {
                        @Override
                        public void routes(Map<Integer, MsiMessage> changed) {
                            routes.add(new LinkedHashMap<>(changed));
                        }

                        @Override
                        public void fire(int vector) {
                            fired.add(vector);
                        }
                    });

    private static byte[] le(long v, int len) {
        byte[] d = new byte[len];
        for (int i = 0; i < len; i++) d[i] = (byte) (v >>> (8 * i));
        return d;
    }

    private static long le(byte[] d) {
        long v = 0;
        for (int i = 0; i < d.length; i++) v |= (d[i] & 0xffL) << (8 * i);
        return v;
    }

    private long readTable(long off, int len) {
        byte[] d = new byte[len];
        assertTrue(t.readTable(off, d));
        return le(d);
    }

    private void program(int v, long address, int data) {
        assertTrue(t.writeTable(v * 16L, le(address & 0xffff_ffffL, 4)));
        assertTrue(t.writeTable(v * 16L + 4, le(address >>> 32, 4)));
        assertTrue(t.writeTable(v * 16L + 8, le(data, 4)));
    }

    private void mask(int v, boolean masked) {
        assertTrue(t.writeTable(v * 16L + 12, le(masked ? 1 : 0, 4)));
    }

    @Test
    void sizesAndPowerOnState() {
        assertEquals(48, t.tableBytes());
        assertEquals(8, t.pbaBytes(), "whole QWORDs");
        assertEquals(2, t.control(), "disabled, unmasked, Table Size N-1");
        for (int v = 0; v < 3; v++)
            assertEquals(1, readTable(v * 16L + 12, 4), "vectors start masked");
        assertFalse(t.trigger(0), "disabled: the caller uses INTx");
        assertTrue(routes.isEmpty());
        assertEquals(16, new MsixTable(65, null).pbaBytes(), "65 vectors: 2 QWORDs");
    }

    @Test
    void linuxOrderRoutesEachVectorOnceItIsUnmasked() {
        t.writeControl(MsixTable.CONTROL_ENABLE | MsixTable.CONTROL_FUNCTION_MASK);
        program(0, 0x3ffd_0040L, 5);
        program(1, 0x1_3ffd_0040L, 6);
        assertTrue(routes.isEmpty(), "function masked: nothing routed yet");
        t.writeControl(MsixTable.CONTROL_ENABLE);
        assertTrue(routes.isEmpty(), "every vector is still masked");
        mask(1, false);
        assertEquals(List.of(Map.of(1, new MsiMessage(0x1_3ffd_0040L, 6))), routes);
        assertEquals(0x1_3ffd_0040L, readTable(16, 8), "QWORD read of the address");
        assertEquals(6, readTable(24, 8) & 0xffff_ffffL);
        assertTrue(t.trigger(1));
        assertEquals(List.of(1), fired);

        // the guest rewrites an unmasked entry: re-routed with the new message
        assertTrue(t.writeTable(24, le(7, 4)));
        assertEquals(new MsiMessage(0x1_3ffd_0040L, 7), routes.getLast().get(1));
        // a rewrite with the same value routes nothing new
        int before = routes.size();
        assertTrue(t.writeTable(24, le(7, 4)));
        assertEquals(before, routes.size());
    }

    @Test
    void aMaskedVectorIsPendingAndDeliveredOnUnmask() {
        t.writeControl(MsixTable.CONTROL_ENABLE);
        program(2, 0x3ffd_0040L, 9);
        assertTrue(t.trigger(2));
        assertTrue(fired.isEmpty());
        assertTrue(t.pending(2));
        byte[] pba = new byte[8];
        assertTrue(t.readPba(0, pba));
        assertEquals(1L << 2, le(pba));
        mask(2, false);
        assertEquals(List.of(2), fired, "delivered on unmask");
        assertFalse(t.pending(2));

        // the function mask holds every vector the same way
        t.writeControl(MsixTable.CONTROL_ENABLE | MsixTable.CONTROL_FUNCTION_MASK);
        assertNull(routes.getLast().get(2), "unrouted while the function is masked");
        assertTrue(t.trigger(2));
        assertTrue(t.trigger(2));
        assertEquals(List.of(2), fired);
        t.writeControl(MsixTable.CONTROL_ENABLE);
        assertEquals(List.of(2, 2), fired, "one delivery for the pending bit");
        assertEquals(new MsiMessage(0x3ffd_0040L, 9), t.routed(2));
    }

    /**
     * KVM may inject a fired vector later, through its route as it is then: masking right after a
     * delivery must not lose it, so the vector is left pending and delivered again on unmask.
     */
    @Test
    void aVectorMaskedAfterItFiredIsDeliveredAgainOnUnmask() {
        t.writeControl(MsixTable.CONTROL_ENABLE);
        program(0, 0x3ffd_0040L, 3);
        program(1, 0x3ffd_0040L, 4);
        mask(0, false);
        mask(1, false);
        assertTrue(t.trigger(0));
        assertEquals(List.of(0), fired);
        mask(0, true);
        mask(1, true);
        assertTrue(t.pending(0), "fired while routed: kept pending across the mask");
        assertFalse(t.pending(1), "never fired: nothing pending");
        mask(0, false);
        mask(1, false);
        assertEquals(List.of(0, 0), fired, "delivered again on unmask");
        assertFalse(t.pending(0));
        // the redelivery is a delivery like any other: a mask right after it keeps it pending
        mask(0, true);
        assertTrue(t.pending(0), "the redelivery counts as firing");
        // disabling MSI-X is not a mask: the function goes back to INTx, nothing stays pending
        t.writeControl(0);
        t.reset();
        t.writeControl(MsixTable.CONTROL_ENABLE);
        program(2, 0x3ffd_0040L, 5);
        mask(2, false);
        assertTrue(t.trigger(2));
        t.writeControl(0);
        assertFalse(t.pending(2), "disabled after firing: not pending");
    }

    @Test
    void disablingUnroutesAndFallsBackToIntx() {
        t.writeControl(MsixTable.CONTROL_ENABLE);
        mask(0, false);
        assertEquals(new MsiMessage(0, 0), t.routed(0));
        t.writeControl(0);
        assertNull(t.routed(0));
        assertTrue(routes.getLast().containsKey(0));
        assertNull(routes.getLast().get(0), "vector 0 unrouted");
        assertFalse(t.trigger(0));
        assertTrue(fired.isEmpty());
    }

    @Test
    void outOfRangeVectorsAreDroppedWhileEnabled() {
        t.writeControl(MsixTable.CONTROL_ENABLE);
        assertTrue(t.trigger(3));
        assertTrue(t.trigger(-1));
        assertTrue(fired.isEmpty());
        for (int v = 0; v < 3; v++) assertFalse(t.pending(v));
    }

    @Test
    void badAccessesReadZeroWriteNothingAndSayWhy() {
        t.writeControl(MsixTable.CONTROL_ENABLE);
        program(0, 0x1234_5678L, 0x55);
        for (int size : new int[] {1, 2, 3, 5, 16}) {
            byte[] d = new byte[size];
            assertFalse(t.readTable(0, d), size + "-byte read");
            assertArrayEquals(new byte[size], d);
            assertFalse(t.writeTable(0, new byte[size]), size + "-byte write");
        }
        assertFalse(t.writeTable(2, le(-1, 4)), "unaligned");
        assertFalse(t.writeTable(4, le(-1, 8)), "QWORD not 8-aligned");
        assertFalse(t.writeTable(48, le(-1, 4)), "past the table");
        assertFalse(t.writeTable(-4, le(-1, 4)));
        assertFalse(t.writeTable(Long.MAX_VALUE - 3, le(-1, 4)));
        assertFalse(t.readTable(Long.MIN_VALUE, new byte[4]));
        assertFalse(t.readPba(8, new byte[4]), "past the PBA");
        assertFalse(t.readPba(2, new byte[2]));
        assertEquals(0x1234_5678L, readTable(0, 4), "the entry is untouched");
        assertEquals(1, readTable(12, 4), "still masked");
        // reserved vector-control bits read 0
        assertTrue(t.writeTable(12, le(0xffff_fffeL, 4)));
        assertEquals(0, readTable(12, 4));
    }

    @Test
    void resetIsPowerOn() {
        t.writeControl(MsixTable.CONTROL_ENABLE);
        program(1, 0x3ffd_0040L, 3);
        t.trigger(1);
        t.reset();
        assertEquals(2, t.control());
        assertFalse(t.pending(1));
        assertEquals(0, readTable(16, 8));
        assertEquals(1, readTable(28, 4));
    }

    @Test
    void randomAccessesNeverThrowAndRoutesMatchTheRegisters() {
        Random r = new Random(15);
        for (int i = 0; i < 20_000; i++) {
            int size = new int[] {1, 2, 4, 8}[r.nextInt(4)];
            long off = r.nextInt(8) == 0 ? r.nextLong() : r.nextInt(80) - 8;
            byte[] d = new byte[size];
            r.nextBytes(d);
            switch (r.nextInt(6)) {
                case 0 -> t.readTable(off, d);
                case 1 -> t.writeTable(off, d);
                case 2 -> t.readPba(off, d);
                case 3 -> t.writeControl(r.nextInt(0x10000));
                case 4 -> t.trigger(r.nextInt(5) - 1);
                default -> t.reset();
            }
            boolean on = (t.control() & 0xc000) == MsixTable.CONTROL_ENABLE;
            for (int v = 0; v < 3; v++) {
                boolean unmasked = (readTable(v * 16L + 12, 4) & 1) == 0;
                MsiMessage m = t.routed(v);
                assertEquals(on && unmasked, m != null, "vector " + v);
                if (m != null) {
                    assertEquals(readTable(v * 16L, 8), m.address());
                    assertEquals((int) readTable(v * 16L + 8, 4), m.data());
                    assertFalse(t.pending(v), "a routed vector has nothing pending");
                }
            }
        }
    }
}
