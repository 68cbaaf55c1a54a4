package dev.jvmm.core.virtio;

import static dev.jvmm.core.virtio.Virtio.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.virtio.GuestDriver.Buf;
import dev.jvmm.core.virtio.GuestDriver.Used;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Hostile rings and chains, Q1–Q11 of PEER-RELIABILITY.md §5, each through the real register
 * interface.
 */
class VirtqueueTest {
    private static final int QS = 16;
    private final LoopbackDevice dev = new LoopbackDevice(1, 256);
    private final GuestDriver g = new GuestDriver(dev);
    private final VirtioMmioTransport t = g.transport;

    private GuestDriver.Ring ring() {
        return g.ring(0);
    }

    /**
     * Publishes head {@code head} (descriptors written by the test), kicks, and returns the used
     * entries.
     */
    private List<Used> kickHead(int head) {
        g.publish(0, head);
        g.kick(0);
        return g.used(0);
    }

    /**
     * The chain was handed back with length 0, counted once as {@code kind}, and the device works
     * on.
     */
    private void assertRejected(List<Used> used, int head, VirtioError kind) {
        assertEquals(List.of(new Used(head, 0)), used);
        assertEquals(1, t.errors(kind), kind.toString());
        assertEquals(1, t.errors(), t.errorCounter().toString());
        assertTrue(dev.chains.isEmpty(), "device saw a rejected chain");
        assertFalse(t.needsReset());
        Buf in = g.in(4);
        Used ok = g.request(0, g.out(new byte[] {1}), in);
        assertEquals(4, ok.len());
        assertArrayEquals(new byte[] {-2, -2, -2, -2}, g.bytes(in));
    }

    @Test
    void happyPathRoundTrip() {
        g.start(0, QS);
        Buf in = g.in(3);
        Used u = g.request(0, g.out(new byte[] {1, 2}), g.out(new byte[] {3}), in);
        assertEquals(3, u.len());
        assertArrayEquals(new byte[] {~6, ~6, ~6}, g.bytes(in));
        assertEquals(1, g.interrupts.get());
        DescriptorChain c = dev.chains.get(0);
        assertEquals(3, c.readableLength());
        assertEquals(3, c.writableLength());
        assertEquals(3, c.bufferCount());
        assertEquals(2, c.readableCount());
        assertEquals(0, t.errors());
    }

    @Test
    void q1_cyclicChainIsRejected() {
        g.start(0, QS);
        long buf = g.in(8).addr();
        assertTimeoutPreemptively(
                Duration.ofSeconds(5),
                () -> {
                    g.writeDesc(ring().desc, 0, buf, 8, DESC_F_NEXT, 0); // desc[0].next = 0
                    assertRejected(kickHead(0), 0, VirtioError.CHAIN_LOOP);
                });
    }

    @Test
    void q1_longerCycleIsRejectedAfterQueueSizeSteps() {
        g.start(0, QS);
        long buf = g.in(8).addr();
        for (int i = 0; i < 5; i++) g.writeDesc(ring().desc, i, buf, 8, DESC_F_NEXT, (i + 1) % 5);
        assertRejected(kickHead(2), 2, VirtioError.CHAIN_LOOP);
    }

    @Test
    void q2_nextBeyondQueueSizeIsRejected() {
        g.start(0, QS);
        long buf = g.in(8).addr();
        g.writeDesc(ring().desc, 3, buf, 8, DESC_F_NEXT, QS);
        assertRejected(kickHead(3), 3, VirtioError.NEXT_OUT_OF_RANGE);
    }

    @Test
    void q3_headIndexOutOfRangeStopsQueueBeforeTouchingTheTable() {
        TracingMemory[] view = new TracingMemory[1];
        GuestDriver d = new GuestDriver(dev, 4 << 20, m -> view[0] = new TracingMemory(m));
        d.start(0, QS);
        long table = d.ring(0).desc;
        view[0].touched.clear();
        d.publish(0, QS); // head 16 in a 16-entry queue
        d.kick(0);
        assertFalse(view[0].touchedIn(table, table + 16L * QS), "descriptor table was read");
        assertFalse(
                view[0].touched.contains(table + 16L * QS),
                "descriptor 16 (past the table) was read");
        assertEquals(0, d.usedIdx(0));
        assertEquals(1, d.transport.errors(VirtioError.HEAD_OUT_OF_RANGE));
        assertEquals(1, d.transport.errors());
        assertTrue(d.transport.needsReset());
        assertEquals(STATUS_NEEDS_RESET | 0x0f, d.status());
        assertEquals(INT_CONFIG_CHANGE, d.r32(0x60));
        assertTrue(dev.chains.isEmpty());
    }

    @Test
    void q4_availIndexJumpBeyondQueueSizeStopsTheQueue() {
        g.start(0, QS);
        g.setAvailIdx(0, QS + 1);
        g.kick(0);
        g.kick(0); // no reprocessing loop: the stopped queue stays stopped
        assertEquals(0, g.usedIdx(0));
        assertTrue(dev.chains.isEmpty());
        assertEquals(1, t.errors(VirtioError.AVAIL_INDEX_OVERRUN));
        assertEquals(1, t.errors());
        assertTrue(t.needsReset());
        assertEquals(
                1, g.interrupts.get()); // the config-change interrupt that announces NEEDS_RESET
        g.start(0, QS); // a driver reset brings it back
        assertFalse(t.needsReset());
        Buf in = g.in(1);
        assertEquals(1, g.request(0, in).len());
    }

    @Test
    void q5_bufferOutsideRamIsRejected() {
        g.start(0, QS);
        long end = GuestDriver.RAM_BASE + g.mem.size();
        long[][] bad = {
            {0x1000, 16}, {end - 8, 16}, {end, 1}, {-16L, 32}, {GuestDriver.RAM_BASE - 1, 2}
        };
        for (int i = 0; i < bad.length; i++) {
            g.writeDesc(ring().desc, i, bad[i][0], bad[i][1], DESC_F_WRITE, 0);
            assertEquals(List.of(new Used(i, 0)), kickHead(i), "buffer " + i);
        }
        assertEquals(bad.length, t.errors(VirtioError.ADDRESS_OUT_OF_RANGE));
        assertEquals(bad.length, t.errors());
        assertTrue(dev.chains.isEmpty());
        assertFalse(t.needsReset());
    }

    @Test
    void q5_guestMemoryExceptionInADeviceIsCaughtAtTheBoundary() {
        VirtioDevice throwing =
                new LoopbackDevice(1, 16) {
                    @Override
                    public void queueNotify(int queue) {
                        activation.memory().readInt(0x10); // below RAM: GuestMemoryException
                    }
                };
        GuestDriver d = new GuestDriver(throwing);
        d.start(0, QS);
        assertDoesNotThrow(() -> d.kick(0));
        assertEquals(1, d.transport.errors(VirtioError.GUEST_MEMORY));
        assertTrue(d.transport.needsReset());
        VirtioDevice oob =
                new LoopbackDevice(1, 16) {
                    @Override
                    public void queueNotify(int queue) {
                        throw new IndexOutOfBoundsException("segment");
                    }
                };
        GuestDriver d2 = new GuestDriver(oob);
        d2.start(0, QS);
        assertDoesNotThrow(() -> d2.transport.notifyQueue(0));
        assertEquals(1, d2.transport.errors(VirtioError.GUEST_MEMORY));
    }

    @Test
    void q6_chainLongerThan4GiBIsRejected() {
        g.start(0, QS);
        // Structure is judged before addresses, so even buffers that could never fit RAM are
        // refused for length.
        g.writeDesc(ring().desc, 0, GuestDriver.RAM_BASE, 0x8000_0000L, DESC_F_NEXT, 1);
        g.writeDesc(ring().desc, 1, GuestDriver.RAM_BASE, 0x8000_0000L, DESC_F_WRITE, 0);
        assertRejected(kickHead(0), 0, VirtioError.LENGTH_OVERFLOW);
    }

    @Test
    void q6_chainOfExactly4GiBMinusOneIsJudgedByAddress() {
        g.start(0, QS);
        g.writeDesc(ring().desc, 0, GuestDriver.RAM_BASE, 0x8000_0000L, DESC_F_NEXT, 1);
        g.writeDesc(ring().desc, 1, GuestDriver.RAM_BASE, 0x7fff_ffffL, DESC_F_WRITE, 0);
        assertRejected(kickHead(0), 0, VirtioError.ADDRESS_OUT_OF_RANGE);
    }

    @Test
    void q7_readableAfterWritableIsRejected() {
        g.start(0, QS);
        Buf w = g.in(4), r = g.out(new byte[4]);
        g.writeDesc(ring().desc, 0, w.addr(), 4, DESC_F_WRITE | DESC_F_NEXT, 1);
        g.writeDesc(ring().desc, 1, r.addr(), 4, 0, 0);
        assertRejected(kickHead(0), 0, VirtioError.READABLE_AFTER_WRITABLE);
        assertArrayEquals(new byte[] {-18, -18, -18, -18}, g.bytes(w)); // 0xEE: untouched
    }

    @Test
    void q10_zeroLengthDescriptorIsRejected() {
        g.start(0, QS);
        Buf b = g.in(4);
        g.writeDesc(ring().desc, 0, b.addr(), 0, DESC_F_WRITE, 0); // a lone zero-length descriptor
        assertRejected(kickHead(0), 0, VirtioError.ZERO_LENGTH);
    }

    @Test
    void q10_zeroLengthDescriptorInsideAChainIsRejected() {
        g.start(0, QS);
        Buf b = g.in(4);
        g.writeDesc(ring().desc, 4, b.addr(), 4, DESC_F_NEXT, 5);
        g.writeDesc(ring().desc, 5, b.addr(), 0, DESC_F_WRITE | DESC_F_NEXT, 6);
        g.writeDesc(ring().desc, 6, b.addr(), 4, DESC_F_WRITE, 0);
        assertRejected(kickHead(4), 4, VirtioError.ZERO_LENGTH);
    }

    @Test
    void q11_floodIsBoundedByQueueSize() {
        g.start(0, QS);
        Virtqueue q = dev.activation.queue(0);
        Buf b = g.in(4);
        for (int i = 0; i < QS; i++) g.writeDesc(ring().desc, i, b.addr(), 4, DESC_F_WRITE, 0);
        for (int i = 0; i < QS; i++) g.publish(0, i);
        // Take all 16 without returning them, as an asynchronous device would.
        DescriptorChain[] held = new DescriptorChain[QS];
        for (int i = 0; i < QS; i++) {
            held[i] = q.pop();
            assertNotNull(held[i]);
        }
        for (int i = 0; i < QS; i++)
            g.publish(0, i); // the guest re-publishes the same heads at once
        assertNull(q.pop(), "more than queue-size chains in flight");
        assertEquals(QS, q.inFlight());
        q.addUsed(held[0], 0);
        assertNotNull(q.pop());
        assertNull(q.pop());
        assertEquals(0, t.errors());
        assertFalse(t.needsReset());
    }

    @Test
    void q11_synchronousDeviceServesExactlyWhatWasPublished() {
        g.start(0, QS);
        Buf b = g.in(4);
        for (int i = 0; i < QS; i++) g.writeDesc(ring().desc, i, b.addr(), 4, DESC_F_WRITE, 0);
        for (int round = 0; round < 100; round++) {
            for (int i = 0; i < QS; i++) g.publish(0, i);
            g.kick(0);
            assertEquals(QS, g.used(0).size());
        }
        assertEquals(100 * QS, dev.chains.size());
        assertEquals((100 * QS) & 0xffff, g.usedIdx(0));
        assertEquals(0, t.errors());
    }

    @Test
    void concurrentNotifiersCompleteEveryChainExactlyOnce() throws InterruptedException {
        g.start(0, QS);
        Buf b = g.in(4);
        for (int i = 0; i < QS; i++) g.writeDesc(ring().desc, i, b.addr(), 4, DESC_F_WRITE, 0);
        for (int round = 0; round < 200; round++) {
            for (int i = 0; i < QS; i++) g.publish(0, i);
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            Thread[] ts = new Thread[3];
            for (int k = 0; k < ts.length; k++) {
                ts[k] =
                        new Thread(
                                () -> {
                                    try {
                                        go.await();
                                    } catch (InterruptedException e) {
                                        return;
                                    }
                                    t.notifyQueue(0);
                                });
                ts[k].start();
            }
            go.countDown();
            for (Thread th : ts) th.join();
            List<Used> used = g.used(0);
            assertEquals(QS, used.size(), "round " + round);
            assertEquals(QS, used.stream().mapToInt(Used::id).distinct().count(), "round " + round);
        }
        assertEquals(200 * QS, dev.chains.size());
        assertEquals(0, t.errors());
    }

    @Test
    void noInterruptFlagSuppressesTheInterrupt() {
        g.start(0, QS);
        g.setAvailFlags(0, AVAIL_F_NO_INTERRUPT);
        g.request(0, g.in(4));
        assertEquals(0, g.interrupts.get());
        g.setAvailFlags(0, 0);
        g.request(0, g.in(4));
        assertEquals(1, g.interrupts.get());
    }

    @Test
    void eventIdxHonoursUsedEventAndPublishesAvailEvent() {
        g.start(bit(F_RING_EVENT_IDX), QS);
        g.setAvailFlags(0, AVAIL_F_NO_INTERRUPT); // ignored once EVENT_IDX is negotiated
        g.setUsedEvent(0, 0); // interrupt when entry 0 is used
        g.request(0, g.in(4));
        assertEquals(1, g.interrupts.get());
        assertEquals(1, g.availEvent(0)); // device asks to be notified at avail index 1
        g.setUsedEvent(0, 5); // driver wants to hear only after entry 5
        for (int i = 0; i < 4; i++)
            g.request(0, g.in(4)); // used idx 2..5: entry index 5 not used yet
        assertEquals(1, g.interrupts.get());
        g.request(0, g.in(4)); // used idx 6: entry 5 used
        assertEquals(2, g.interrupts.get());
        assertEquals(6, g.availEvent(0));
        assertEquals(0, t.errors());
    }
}
