package dev.jvmm.core.virtio;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.device.MmioBus;
import org.junit.jupiter.api.Test;

/** M1, M2, M6, M7 of PEER-RELIABILITY.md §5: virtio-mmio windows on the MMIO bus. */
class VirtioBusTest {
    private static final long BASE = 0x0a00_0000L;
    private final MmioBus bus = new MmioBus();
    private final GuestDriver g = new GuestDriver(new LoopbackDevice(1, 16));

    VirtioBusTest() {
        bus.register(BASE, VirtioMmioTransport.REGION_SIZE, g.transport, "virtio-mmio@a000000");
    }

    @Test
    void m1_readFromUnmappedAddressReadsZeroAndIsCounted() {
        byte[] d = {7, 7, 7, 7};
        bus.dispatch(BASE + VirtioMmioTransport.REGION_SIZE, d, false);
        assertArrayEquals(new byte[4], d);
        assertEquals(1, bus.holeReads());
        byte[] magic = new byte[4];
        bus.dispatch(BASE, magic, false); // the guest continues: the device still answers
        assertArrayEquals(new byte[] {'v', 'i', 'r', 't'}, magic);
    }

    @Test
    void m2_writeToUnmappedAddressIsIgnoredAndCounted() {
        bus.dispatch(BASE - 4, new byte[] {1, 0, 0, 0}, true);
        assertEquals(1, bus.holeWrites());
        assertEquals(0, g.status());
        assertEquals(0, g.transport.errors());
    }

    @Test
    void m6_eightByteAccessStraddlingTheDeviceEndIsBoundsCheckedByTheDevice() {
        byte[] d = {1, 1, 1, 1, 1, 1, 1, 1};
        bus.dispatch(BASE + VirtioMmioTransport.REGION_SIZE - 4, d, false);
        assertArrayEquals(new byte[8], d);
        bus.dispatch(BASE + VirtioMmioTransport.REGION_SIZE - 4, d, true);
        assertEquals(2, g.transport.errors(VirtioError.CONFIG_ACCESS));
        assertEquals(
                0, bus.holeReads() + bus.holeWrites()); // routed to the device by its first byte
        assertEquals(0, bus.deviceErrors());
    }

    @Test
    void m7_overlappingRegistrationIsABuildTimeError() {
        GuestDriver other = new GuestDriver(new LoopbackDevice(1, 16));
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                bus.register(
                                        BASE + 0x100,
                                        VirtioMmioTransport.REGION_SIZE,
                                        other.transport,
                                        "virtio-mmio@a000100"));
        assertTrue(
                e.getMessage().contains("virtio-mmio@a000100")
                        && e.getMessage().contains("virtio-mmio@a000000"),
                e.getMessage());
        bus.register(
                BASE + VirtioMmioTransport.REGION_SIZE,
                VirtioMmioTransport.REGION_SIZE,
                other.transport,
                "virtio-mmio@a000200");
        assertEquals(2, bus.regions().size());
    }
}
