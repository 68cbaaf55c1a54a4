package dev.jvmm.core.virtio.net;

import static dev.jvmm.core.virtio.net.VirtioNetDevice.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.StateJson;
import dev.jvmm.core.virtio.GuestDriver;
import dev.jvmm.core.virtio.VirtioState;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** virtio-net across a snapshot: the receive buffer the device held goes back to the ring. */
class VirtioNetSnapshotTest {
    private static final long BASE = 0xa00_0400L;
    private static final byte[] MAC = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    private final QueueNetBackend backend = new QueueNetBackend(), backend2 = new QueueNetBackend();
    private GuestDriver g, r;

    @AfterEach
    void close() {
        if (g != null) g.transport.close();
        if (r != null) r.transport.close();
    }

    private static void await(BooleanSupplier c, String what) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) fail("timed out waiting for " + what);
            Thread.sleep(2);
        }
    }

    private String savedWithAParkedBuffer() throws Exception {
        VirtioNetDevice dev = new VirtioNetDevice(backend, MAC);
        g = new GuestDriver(dev, BASE).start(0, 8);
        int head = g.submit(RX, g.in(HDR_LEN + 16));
        g.kick(RX);
        backend.toGuest.add(new byte[60]); // does not fit: the device keeps the buffer popped
        await(() -> dev.rxDropped() == 1, "the too-large frame");
        assertEquals(0, head);
        dev.quiesce();
        String json = StateJson.write(g.transport.saveState());
        g.transport.close();
        return json;
    }

    @Test
    void aReceiveBufferTheDeviceHeldIsUsedAfterRestore() throws Exception {
        String json = savedWithAParkedBuffer();
        VirtioState s = StateJson.read(json, VirtioState.class, "net");
        assertEquals(0, s.queues().get(RX).nextAvail(), "the held buffer is given back");

        VirtioNetDevice dev2 = new VirtioNetDevice(backend2, MAC);
        r = g.copyFor(dev2, BASE);
        g = null;
        r.transport.restoreState(s);
        assertEquals(json, StateJson.write(r.transport.saveState()));
        backend2.toGuest.add(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        await(() -> r.usedIdx(RX) == 1, "the frame in the restored device");
        assertEquals(List.of(new GuestDriver.Used(0, HDR_LEN + 8)), r.used(RX));
    }

    @Test
    void anotherMacIsRefused() throws Exception {
        String json = savedWithAParkedBuffer();
        VirtioNetDevice other = new VirtioNetDevice(backend2, new byte[] {0x52, 0x54, 0, 1, 1, 1});
        r = g.copyFor(other, BASE);
        g = null;
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () ->
                                r.transport.restoreState(
                                        StateJson.read(json, VirtioState.class, "net")));
        assertEquals(
                "snapshot: virtio.0xa000400: device: mac 52:54:00:12:34:56 is not this NIC's"
                        + " 52:54:00:01:01:01",
                e.getMessage());
        assertFalse(r.transport.isActive());
    }
}
