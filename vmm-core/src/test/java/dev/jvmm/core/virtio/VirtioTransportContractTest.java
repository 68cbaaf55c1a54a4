package dev.jvmm.core.virtio;

import static dev.jvmm.core.virtio.Virtio.STATUS_ACKNOWLEDGE;
import static dev.jvmm.core.virtio.Virtio.STATUS_DRIVER;
import static dev.jvmm.core.virtio.Virtio.STATUS_DRIVER_OK;
import static dev.jvmm.core.virtio.Virtio.STATUS_FEATURES_OK;
import static dev.jvmm.core.virtio.Virtio.STATUS_NEEDS_RESET;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.memory.SegmentGuestMemory;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the virtio core guarantees against a hostile driver, checked through each transport's own
 * registers: virtio-mmio and virtio-pci must refuse and accept exactly the same things.
 */
class VirtioTransportContractTest {
    private static final long RAM = 0x8000_0000L;
    private static final long V1 = Virtio.bit(Virtio.F_VERSION_1);
    private static final int DRIVER = STATUS_ACKNOWLEDGE | STATUS_DRIVER;
    private final SegmentGuestMemory mem = SegmentGuestMemory.onHeap(RAM, 1 << 20);
    private final LoopbackDevice device = new LoopbackDevice(2, 16);

    static Stream<Named<BiFunction<VirtioDevice, SegmentGuestMemory, TransportPort>>> transports() {
        return Stream.of(
                Named.of("mmio", TransportPort::mmio), Named.of("pci", TransportPort::pci));
    }

    private TransportPort port(BiFunction<VirtioDevice, SegmentGuestMemory, TransportPort> f) {
        return f.apply(device, mem);
    }

    private static int negotiate(TransportPort p, long features) {
        p.status(0);
        p.status(STATUS_ACKNOWLEDGE);
        p.status(DRIVER);
        p.driverFeatures(features);
        p.status(DRIVER | STATUS_FEATURES_OK);
        return p.status();
    }

    /** Rings for queue {@code q} of {@code size} at a fixed spot per queue. */
    private static int setUpQueue(TransportPort p, int q, int size) {
        long base = RAM + 0x1000 + q * 0x1000L;
        p.selectQueue(q);
        p.queueSize(size);
        p.queueAddresses(base, base + 0x400, base + 0x800);
        p.enable(1);
        return p.enabled();
    }

    @ParameterizedTest
    @MethodSource("transports")
    void offersDeviceFeaturesPlusVersion1AndRingFeatures(
            BiFunction<VirtioDevice, SegmentGuestMemory, TransportPort> f) {
        TransportPort p = port(f);
        long expected =
                device.deviceFeatures()
                        | V1
                        | Virtio.bit(Virtio.F_RING_INDIRECT_DESC)
                        | Virtio.bit(Virtio.F_RING_EVENT_IDX);
        assertEquals(expected, p.deviceFeatures());
    }

    @ParameterizedTest
    @MethodSource("transports")
    void featuresOkOnlyForAnOfferedSubsetWithVersion1(
            BiFunction<VirtioDevice, SegmentGuestMemory, TransportPort> f) {
        TransportPort p = port(f);
        assertEquals(DRIVER, negotiate(p, Virtio.bit(0)), "VERSION_1 missing");
        assertEquals(DRIVER, negotiate(p, V1 | Virtio.bit(5)), "bit 5 never offered");
        assertEquals(2, p.errors(VirtioError.FEATURES_REJECTED));
        assertEquals(DRIVER | STATUS_FEATURES_OK, negotiate(p, V1 | Virtio.bit(3)));
    }

    @ParameterizedTest
    @MethodSource("transports")
    void statusStepsOutOfOrderAreIgnoredAndCounted(
            BiFunction<VirtioDevice, SegmentGuestMemory, TransportPort> f) {
        TransportPort p = port(f);
        p.status(STATUS_ACKNOWLEDGE | STATUS_DRIVER_OK);
        assertEquals(STATUS_ACKNOWLEDGE, p.status(), "DRIVER_OK without FEATURES_OK");
        p.status(STATUS_NEEDS_RESET | STATUS_ACKNOWLEDGE);
        p.status(STATUS_ACKNOWLEDGE | STATUS_FEATURES_OK); // FEATURES_OK before DRIVER
        assertEquals(STATUS_ACKNOWLEDGE, p.status());
        assertTrue(p.errors(VirtioError.WRONG_STATE) >= 3, "counted");
        assertEquals(0, device.activations);
    }

    @ParameterizedTest
    @MethodSource("transports")
    void badQueueGeometryIsRefusedAndQueuesLockOnceReady(
            BiFunction<VirtioDevice, SegmentGuestMemory, TransportPort> f) {
        TransportPort p = port(f);
        p.selectQueue(0);
        p.queueSize(8);
        assertEquals(1, p.errors(VirtioError.WRONG_STATE), "queue set-up before FEATURES_OK");
        negotiate(p, V1);
        assertEquals(0, setUpQueue(p, 0, 0), "size 0");
        assertEquals(0, setUpQueue(p, 0, 12), "not a power of two");
        assertEquals(0, setUpQueue(p, 0, 32), "above the maximum of 16");
        p.selectQueue(0);
        p.queueSize(8);
        p.queueAddresses(RAM + (1 << 20) - 8, RAM + 0x400, RAM + 0x800);
        p.enable(1);
        assertEquals(0, p.enabled(), "descriptor table past the end of RAM");
        p.queueAddresses(0x1000, RAM + 0x400, RAM + 0x800);
        p.enable(1);
        assertEquals(0, p.enabled(), "descriptor table outside RAM");
        assertEquals(5, p.errors(VirtioError.QUEUE_INVALID));
        assertEquals(1, setUpQueue(p, 0, 8));
        p.queueSize(4);
        assertEquals(2, p.errors(VirtioError.WRONG_STATE), "size written while ready");
        assertEquals(8, p.core().queueSize(0));
    }

    @ParameterizedTest
    @MethodSource("transports")
    void queuesOutOfRangeAndBadNotificationsAreIgnored(
            BiFunction<VirtioDevice, SegmentGuestMemory, TransportPort> f) {
        TransportPort p = port(f);
        negotiate(p, V1);
        p.selectQueue(2);
        p.queueSize(8);
        p.enable(1);
        assertEquals(0, p.enabled());
        p.notify(2);
        p.notify(0x7fff);
        assertTrue(p.errors(VirtioError.QUEUE_INDEX) >= 3, "each one counted");
        assertEquals(0, device.activations);
    }

    @ParameterizedTest
    @MethodSource("transports")
    void driverOkWithAQueueNotReadyNeedsReset(
            BiFunction<VirtioDevice, SegmentGuestMemory, TransportPort> f) {
        TransportPort p = port(f);
        negotiate(p, V1);
        assertEquals(1, setUpQueue(p, 0, 8));
        p.status(DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
        assertEquals(STATUS_NEEDS_RESET, p.status() & STATUS_NEEDS_RESET);
        assertEquals(1, p.errors(VirtioError.QUEUE_NOT_READY));
        p.status(0);
        assertEquals(0, p.status(), "reset clears NEEDS_RESET");
    }

    @ParameterizedTest
    @MethodSource("transports")
    void aNotifiedChainIsServedAndInterruptsTheDriver(
            BiFunction<VirtioDevice, SegmentGuestMemory, TransportPort> f) {
        TransportPort p = port(f);
        negotiate(p, V1);
        assertEquals(1, setUpQueue(p, 0, 8));
        assertEquals(1, setUpQueue(p, 1, 8));
        p.status(DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
        assertEquals(0x0f, p.status());
        assertEquals(1, device.activations);
        long desc = RAM + 0x1000, avail = desc + 0x400, used = desc + 0x800, buf = RAM + 0x8000;
        mem.write(buf, new byte[] {1, 2, 3});
        // descriptor 0: 3 readable bytes, next 1; descriptor 1: 4 writable bytes
        mem.write(desc, TransportPort.bytes(buf, 8));
        mem.write(desc + 8, TransportPort.bytes(3, 4));
        mem.write(desc + 12, TransportPort.bytes(Virtio.DESC_F_NEXT | 1L << 16, 4));
        mem.write(desc + 16, TransportPort.bytes(buf + 0x100, 8));
        mem.write(desc + 24, TransportPort.bytes(4, 4));
        mem.write(desc + 28, TransportPort.bytes(Virtio.DESC_F_WRITE, 4));
        mem.write(avail + 4, TransportPort.bytes(0, 2)); // ring[0] = head 0
        mem.write(avail + 2, TransportPort.bytes(1, 2)); // idx 1
        p.notify(0);
        assertEquals(1, device.chains.size());
        byte[] out = new byte[4];
        mem.read(buf + 0x100, out);
        assertArrayEquals(new byte[] {~6, ~6, ~6, ~6}, out);
        byte[] usedIdx = new byte[2];
        mem.read(used + 2, usedIdx);
        assertEquals(1, TransportPort.le(usedIdx));
        assertEquals(1, p.interrupts.get());
        assertEquals(Virtio.INT_USED_BUFFER, p.takeInterrupts());
        assertEquals(0, p.takeInterrupts(), "acknowledged");
    }

    @ParameterizedTest
    @MethodSource("transports")
    void configSpaceIsBoundsCheckedAndWritableOnlyOnceTheDriverIsKnown(
            BiFunction<VirtioDevice, SegmentGuestMemory, TransportPort> f) {
        TransportPort p = port(f);
        assertArrayEquals(new byte[] {3, 4}, p.readConfig(2, 2));
        assertArrayEquals(new byte[4], p.readConfig(6, 4), "straddles the end");
        p.writeConfig(0, new byte[] {9});
        assertEquals(1, device.config[0], "written before DRIVER");
        p.status(STATUS_ACKNOWLEDGE);
        p.status(DRIVER);
        p.writeConfig(0, new byte[] {9});
        assertEquals(9, device.config[0]);
        assertEquals(2, p.errors(VirtioError.CONFIG_ACCESS));
    }

    @ParameterizedTest
    @MethodSource("transports")
    void resetAfterUseStopsTheDeviceAndLetsItStartAgain(
            BiFunction<VirtioDevice, SegmentGuestMemory, TransportPort> f) {
        TransportPort p = port(f);
        negotiate(p, V1);
        setUpQueue(p, 0, 8);
        setUpQueue(p, 1, 8);
        p.status(DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
        p.status(0);
        assertEquals(1, device.resets);
        assertEquals(0, p.core().queueSize(0));
        assertEquals(DRIVER | STATUS_FEATURES_OK, negotiate(p, V1));
        assertEquals(1, setUpQueue(p, 0, 8));
        p.transport.close();
        p.transport.close();
        assertEquals(1, device.closes);
    }
}
