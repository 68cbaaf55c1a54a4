package dev.jvmm.core.virtio;

import static dev.jvmm.core.virtio.Virtio.*;
import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/**
 * The virtio-mmio v2 register interface, driven as a guest would; M3–M5 and Q9 of
 * PEER-RELIABILITY.md §5.
 */
class VirtioMmioTransportTest {
    private final LoopbackDevice dev = new LoopbackDevice(2, 64);
    private final GuestDriver g = new GuestDriver(dev);
    private final VirtioMmioTransport t = g.transport;

    @Test
    void identityRegisters() {
        assertEquals(0x74726976, g.r32(0x00));
        assertEquals(2, g.r32(0x04));
        assertEquals(0x2a, g.r32(0x08));
        assertEquals(0x4d4d564a, g.r32(0x0c));
        assertEquals(64, g.r32(0x34)); // QueueNumMax of queue 0
        assertEquals(-1, g.r32(0xb0)); // no shared memory region
        assertEquals(-1, g.r32(0xb4));
        assertEquals(0, t.errors());
    }

    @Test
    void offeredFeaturesAreDeviceBitsPlusVersion1AndRingFeatures() {
        long expect =
                bit(0)
                        | bit(3)
                        | bit(F_VERSION_1)
                        | bit(F_RING_INDIRECT_DESC)
                        | bit(F_RING_EVENT_IDX);
        assertEquals(expect, g.deviceFeatures());
        assertEquals(expect, t.offeredFeatures());
        g.w32(0x14, 7);
        assertEquals(0, g.r32(0x10)); // selector beyond the two words reads 0
    }

    @Test
    void featuresOkForASubsetWithVersion1() {
        assertEquals(0x0b, g.negotiate(bit(F_VERSION_1) | bit(3)));
        assertEquals(0, t.errors());
    }

    @Test
    void featuresOkRefusedWithoutVersion1() {
        assertEquals(0x03, g.negotiate(bit(3)));
        assertEquals(1, t.errors(VirtioError.FEATURES_REJECTED));
    }

    @Test
    void featuresOkRefusedForUnofferedBit() {
        assertEquals(0x03, g.negotiate(bit(F_VERSION_1) | bit(5)));
        assertEquals(1, t.errors(VirtioError.FEATURES_REJECTED));
        assertEquals(1, t.errors());
    }

    @Test
    void statusStepsOutOfOrderAreIgnored() {
        g.w32(0x70, STATUS_DRIVER); // DRIVER without ACKNOWLEDGE
        assertEquals(0, g.status());
        g.w32(
                0x70,
                STATUS_ACKNOWLEDGE
                        | STATUS_DRIVER
                        | STATUS_DRIVER_OK); // DRIVER_OK before FEATURES_OK
        assertEquals(STATUS_ACKNOWLEDGE | STATUS_DRIVER, g.status());
        g.w32(0x70, STATUS_ACKNOWLEDGE); // clearing a bit without reset
        assertEquals(STATUS_ACKNOWLEDGE | STATUS_DRIVER, g.status());
        g.w32(
                0x70,
                STATUS_ACKNOWLEDGE
                        | STATUS_DRIVER
                        | STATUS_NEEDS_RESET); // NEEDS_RESET is the device's bit
        assertEquals(STATUS_ACKNOWLEDGE | STATUS_DRIVER, g.status());
        assertEquals(4, t.errors(VirtioError.WRONG_STATE));
        assertEquals(0, dev.activations);
    }

    @Test
    void m3_registerAccessOfOtherSizesIsIgnoredAndCounted() {
        for (int size : new int[] {1, 2, 8}) {
            byte[] d = new byte[size];
            java.util.Arrays.fill(d, (byte) 0x55);
            t.read(0x00, d);
            assertArrayEquals(new byte[size], d, "read of " + size + " bytes");
            t.write(0x70, new byte[size]); // would be a reset if honoured
            byte[] one = new byte[size];
            one[0] = 1;
            t.write(0x70, one); // would be ACKNOWLEDGE
        }
        assertEquals(0, g.status());
        t.read(0x06, new byte[4]); // misaligned
        assertEquals(10, t.errors(VirtioError.REGISTER_ACCESS));
        assertEquals(0, g.r32(0xe0)); // unknown offset reads 0
        g.w32(0xe0, 1); // unknown offset write ignored
        g.w32(0x00, 1); // write to MagicValue ignored
        assertEquals(0x74726976, g.r32(0x00));
        assertEquals(13, t.errors(VirtioError.REGISTER_ACCESS));
        assertEquals(13, t.errors());
    }

    @Test
    void m4_queueSelOutOfRangeThenQueueWritesAreIgnored() {
        g.negotiate(bit(F_VERSION_1));
        g.w32(0x30, 2); // device has queues 0 and 1
        assertEquals(0, g.r32(0x34)); // QueueNumMax 0: "no such queue"
        g.w32(0x38, 16);
        g.w32(0x80, 0x1000);
        g.w32(0x44, 1);
        assertEquals(0, g.r32(0x44));
        g.w32(0x30, -1);
        g.w32(0x38, 16);
        assertEquals(0, g.r32(0x34));
        g.w32(0x30, 0); // the real queue 0 is untouched
        assertEquals(64, g.r32(0x34));
        assertEquals(0, g.r32(0x44));
        assertEquals(6, t.errors(VirtioError.QUEUE_INDEX)); // 2 selects + 4 queue register writes
        assertEquals(6, t.errors());
    }

    @Test
    void m4_badQueueNotifyIndexIsIgnored() {
        g.start();
        GuestDriver.Buf b = g.in(8);
        g.submit(0, b);
        g.kick(2);
        g.kick(-1);
        t.notifyQueue(0x10000);
        assertEquals(0, g.usedIdx(0));
        assertTrue(dev.chains.isEmpty());
        assertEquals(3, t.errors(VirtioError.QUEUE_INDEX));
        assertFalse(t.needsReset());
        g.kick(0); // the queue itself still works
        assertEquals(1, g.usedIdx(0));
    }

    @Test
    void m5_configWriteBeforeDriverIsIgnored() {
        g.transport.write(0x100, new byte[] {9});
        assertArrayEquals(new byte[] {1}, g.readConfig(0, 1));
        assertEquals(1, t.errors(VirtioError.CONFIG_ACCESS));
        g.w32(0x70, STATUS_ACKNOWLEDGE);
        g.w32(0x70, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        g.transport.write(0x100, new byte[] {9});
        assertArrayEquals(new byte[] {9}, g.readConfig(0, 1));
        assertEquals(1, t.errors());
    }

    @Test
    void m5_configAccessBeyondConfigSizeReadsZeroAndIsIgnored() {
        g.negotiate(bit(F_VERSION_1));
        assertArrayEquals(new byte[] {5, 6, 7, 8}, g.readConfig(4, 4));
        assertArrayEquals(new byte[4], g.readConfig(6, 4)); // straddles the end
        assertArrayEquals(new byte[2], g.readConfig(8, 2)); // wholly beyond
        g.transport.write(0x100 + 7, new byte[] {1, 1}); // straddles the end
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, dev.config);
        assertEquals(3, t.errors(VirtioError.CONFIG_ACCESS));
    }

    @Test
    void m5_featuresAckedInWrongStateAreIgnored() {
        g.w32(0x20, 1); // before DRIVER
        g.negotiate(bit(F_VERSION_1));
        g.w32(0x24, 0);
        g.w32(0x20, 1 | 8); // after FEATURES_OK
        g.w32(0x24, 1);
        g.w32(0x20, 0); // would drop VERSION_1
        assertEquals(3, t.errors(VirtioError.WRONG_STATE));
        for (int q = 0; q < 2; q++) g.setupQueue(q, 16);
        g.driverOk();
        assertEquals(bit(F_VERSION_1), dev.activation.features());
    }

    @Test
    void m6_eightByteAccessStraddlingTheWindowEndReadsZero() {
        byte[] d = {1, 1, 1, 1, 1, 1, 1, 1};
        t.read(VirtioMmioTransport.REGION_SIZE - 4, d);
        assertArrayEquals(new byte[8], d);
        t.write(VirtioMmioTransport.REGION_SIZE - 4, d);
        assertEquals(2, t.errors(VirtioError.CONFIG_ACCESS));
    }

    @Test
    void q9_badQueueGeometryIsRefusedWithoutDivisionByZero() {
        g.negotiate(bit(F_VERSION_1));
        long base = g.alloc(0x4000, 4096);
        long end = GuestDriver.RAM_BASE + g.mem.size();
        long[][] bad = {
            {0, base, base + 0x1000, base + 0x2000}, // size 0
            {24, base, base + 0x1000, base + 0x2000}, // not a power of two
            {128, base, base + 0x1000, base + 0x2000}, // above QueueNumMax 64
            {16, base + 8, base + 0x1000, base + 0x2000}, // desc not 16-aligned
            {16, base, base + 0x1001, base + 0x2000}, // avail not 2-aligned
            {16, base, base + 0x1000, base + 0x2002}, // used not 4-aligned
            {16, end - 0x80, base + 0x1000, base + 0x2000}, // desc table runs past RAM
            {16, base, end - 8, base + 0x2000}, // avail ring runs past RAM
            {16, base, base + 0x1000, 0x1000}, // used ring below RAM
            {16, base, base + 0x1000, -4L}, // used ring at the top of u64
        };
        for (long[] b : bad)
            assertEquals(
                    0,
                    g.programQueue(0, (int) b[0], b[1], b[2], b[3]),
                    java.util.Arrays.toString(b));
        assertEquals(bad.length, t.errors(VirtioError.QUEUE_INVALID));
        assertEquals(bad.length, t.errors());
        g.setupQueue(1, 16);
        g.driverOk(); // queue 0 never became ready
        assertEquals(0, dev.activations);
        assertTrue(t.needsReset());
        assertEquals(1, t.errors(VirtioError.QUEUE_NOT_READY));
        assertEquals(STATUS_NEEDS_RESET, g.status() & STATUS_NEEDS_RESET);
    }

    @Test
    void queueRegistersLockedOnceReadyAndAfterDriverOk() {
        g.negotiate(bit(F_VERSION_1));
        g.setupQueue(0, 16);
        g.w32(0x30, 0);
        g.w32(0x38, 32); // while ready
        g.setupQueue(1, 16);
        g.driverOk();
        g.w32(0x30, 1);
        g.w32(0x44, 0); // cannot un-ready a live queue
        assertEquals(1, g.r32(0x44));
        assertEquals(2, t.errors(VirtioError.WRONG_STATE));
        assertEquals(16, dev.activation.queue(0).size());
    }

    @Test
    void interruptStatusAckAndConfigGeneration() {
        g.start();
        g.submit(0, g.in(4));
        g.kick(0);
        assertEquals(1, g.interrupts.get());
        assertEquals(INT_USED_BUFFER, g.r32(0x60));
        g.w32(0x64, INT_USED_BUFFER);
        assertEquals(0, g.r32(0x60));
        int gen = g.r32(0xfc);
        dev.activation.configChanged();
        assertEquals(gen + 1, g.r32(0xfc));
        assertEquals(INT_CONFIG_CHANGE, g.r32(0x60));
        assertEquals(2, g.interrupts.get());
    }

    @Test
    void resetClearsEverythingAndTheDeviceCanStartAgain() {
        g.start();
        VirtioActivation first = dev.activation;
        Virtqueue q0 = first.queue(0);
        g.w32(0x70, 0);
        assertEquals(1, dev.resets);
        assertEquals(0, g.status());
        assertEquals(0, g.r32(0x44));
        assertEquals(0, g.r32(0x60));
        g.submit(0, g.in(4));
        assertNull(q0.pop()); // the old queue is disabled
        g.kick(0); // no device activation: ignored
        assertEquals(0, g.usedIdx(0));
        g.start();
        assertEquals(2, dev.activations);
        assertNotSame(first, dev.activation);
        g.submit(0, g.in(4));
        g.kick(0);
        assertEquals(1, g.usedIdx(0));
        assertEquals(0, t.errors());
    }

    @Test
    void closeResetsAndClosesTheDeviceOnce() {
        g.start();
        t.close();
        t.close();
        assertEquals(1, dev.closes);
        assertEquals(1, dev.resets);
        g.w32(0x70, STATUS_ACKNOWLEDGE); // ignored once closed
        assertEquals(0, g.status());
    }
}
