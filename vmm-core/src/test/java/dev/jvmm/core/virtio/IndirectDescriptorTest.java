package dev.jvmm.core.virtio;

import static dev.jvmm.core.virtio.Virtio.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.virtio.GuestDriver.Buf;
import dev.jvmm.core.virtio.GuestDriver.Used;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Indirect descriptor tables (Q8 of PEER-RELIABILITY.md §5): accepted only when negotiated and
 * well-formed.
 */
class IndirectDescriptorTest {
    private static final int QS = 16;
    private final LoopbackDevice dev = new LoopbackDevice(1, 64);
    private final GuestDriver g = new GuestDriver(dev);
    private final VirtioMmioTransport t = g.transport;

    private List<Used> submitIndirect(long table, long len, int flags) {
        g.writeDesc(g.ring(0).desc, 0, table, len, DESC_F_INDIRECT | flags, 1);
        g.publish(0, 0);
        g.kick(0);
        return g.used(0);
    }

    private void assertRejected(List<Used> used, VirtioError kind) {
        assertEquals(List.of(new Used(0, 0)), used);
        assertEquals(1, t.errors(kind), kind.toString());
        assertEquals(1, t.errors(), t.errorCounter().toString());
        assertTrue(dev.chains.isEmpty());
        assertFalse(t.needsReset());
    }

    @Test
    void indirectTableIsFollowedWhenNegotiated() {
        g.start(bit(F_RING_INDIRECT_DESC), QS);
        Buf r = g.out(new byte[] {2, 3}), w = g.in(5);
        long table = g.alloc(32, 16);
        g.writeDesc(table, 0, r.addr(), 2, DESC_F_NEXT, 1);
        g.writeDesc(table, 1, w.addr(), 5, DESC_F_WRITE, 0);
        assertEquals(List.of(new Used(0, 5)), submitIndirect(table, 32, 0));
        assertArrayEquals(new byte[] {~5, ~5, ~5, ~5, ~5}, g.bytes(w));
        assertEquals(0, t.errors());
    }

    @Test
    void q8_indirectWithoutNegotiationIsRejected() {
        g.start(0, QS);
        long table = g.alloc(16, 16);
        g.writeDesc(table, 0, g.in(4).addr(), 4, DESC_F_WRITE, 0);
        assertRejected(submitIndirect(table, 16, 0), VirtioError.INDIRECT_NOT_NEGOTIATED);
    }

    @Test
    void q8_nestedIndirectIsRejected() {
        g.start(bit(F_RING_INDIRECT_DESC), QS);
        long inner = g.alloc(16, 16), outer = g.alloc(16, 16);
        g.writeDesc(inner, 0, g.in(4).addr(), 4, DESC_F_WRITE, 0);
        g.writeDesc(outer, 0, inner, 16, DESC_F_INDIRECT, 0);
        assertRejected(submitIndirect(outer, 16, 0), VirtioError.INDIRECT_NESTED);
    }

    @Test
    void q8_tableLengthNotAMultipleOf16IsRejected() {
        g.start(bit(F_RING_INDIRECT_DESC), QS);
        long table = g.alloc(32, 16);
        g.writeDesc(table, 0, g.in(4).addr(), 4, DESC_F_WRITE, 0);
        assertRejected(submitIndirect(table, 24, 0), VirtioError.INDIRECT_LENGTH);
    }

    @Test
    void q8_zeroLengthTableIsRejected() {
        g.start(bit(F_RING_INDIRECT_DESC), QS);
        assertRejected(submitIndirect(g.alloc(16, 16), 0, 0), VirtioError.INDIRECT_LENGTH);
    }

    @Test
    void q8_tableOfMoreThan65535EntriesIsRejected() {
        g.start(bit(F_RING_INDIRECT_DESC), QS);
        long table = g.alloc(65536L * 16, 16); // fits RAM: only the entry count is wrong
        assertRejected(submitIndirect(table, 65536L * 16, 0), VirtioError.INDIRECT_LENGTH);
    }

    @Test
    void q8_tableOf65535EntriesIsWalked() {
        g.start(bit(F_RING_INDIRECT_DESC), QS);
        long table = g.alloc(65535L * 16, 16);
        Buf w = g.in(1);
        for (int i = 0; i < 65535; i++)
            g.writeDesc(table, i, w.addr(), 1, DESC_F_WRITE | (i < 65534 ? DESC_F_NEXT : 0), i + 1);
        assertEquals(List.of(new Used(0, 65535)), submitIndirect(table, 65535L * 16, 0));
        assertEquals(65535, dev.chains.get(0).bufferCount());
    }

    @Test
    void q8_indirectTogetherWithNextIsRejected() {
        g.start(bit(F_RING_INDIRECT_DESC), QS);
        long table = g.alloc(16, 16);
        g.writeDesc(table, 0, g.in(4).addr(), 4, DESC_F_WRITE, 0);
        assertRejected(submitIndirect(table, 16, DESC_F_NEXT), VirtioError.INDIRECT_WITH_NEXT);
    }

    @Test
    void q8_tableOutsideRamIsRejectedBeforeItIsRead() {
        g.start(bit(F_RING_INDIRECT_DESC), QS);
        long end = GuestDriver.RAM_BASE + g.mem.size();
        assertRejected(submitIndirect(end - 16, 32, 0), VirtioError.ADDRESS_OUT_OF_RANGE);
    }

    @Test
    void q8_loopInsideTableIsRejected() {
        g.start(bit(F_RING_INDIRECT_DESC), QS);
        long table = g.alloc(48, 16);
        Buf w = g.in(4);
        for (int i = 0; i < 3; i++)
            g.writeDesc(table, i, w.addr(), 4, DESC_F_WRITE | DESC_F_NEXT, (i + 1) % 3);
        assertRejected(submitIndirect(table, 48, 0), VirtioError.CHAIN_LOOP);
    }

    @Test
    void q8_nextBeyondTableIsRejected() {
        g.start(bit(F_RING_INDIRECT_DESC), QS);
        long table = g.alloc(32, 16);
        Buf w = g.in(4);
        g.writeDesc(
                table, 0, w.addr(), 4, DESC_F_WRITE | DESC_F_NEXT, 2); // table has entries 0 and 1
        assertRejected(submitIndirect(table, 32, 0), VirtioError.NEXT_OUT_OF_RANGE);
    }
}
