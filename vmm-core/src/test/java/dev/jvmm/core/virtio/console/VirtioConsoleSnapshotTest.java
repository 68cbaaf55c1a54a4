package dev.jvmm.core.virtio.console;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.StateJson;
import dev.jvmm.core.virtio.GuestDriver;
import dev.jvmm.core.virtio.GuestDriver.Buf;
import dev.jvmm.core.virtio.VirtioState;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** virtio-console across a snapshot: host input the guest had not yet taken still reaches it. */
class VirtioConsoleSnapshotTest {
    @Test
    void bufferedInputReachesTheGuestAfterRestore() {
        VirtioConsoleDevice dev = new VirtioConsoleDevice(new ByteArrayOutputStream());
        GuestDriver g = new GuestDriver(dev, 0xa000600L).start(0, 16);
        dev.input("hello".getBytes(StandardCharsets.US_ASCII)); // no receive buffer posted yet
        assertEquals(5, dev.pendingInput());
        dev.quiesce();
        String json = StateJson.write(g.transport.saveState());
        g.transport.close();

        VirtioConsoleDevice dev2 = new VirtioConsoleDevice(new ByteArrayOutputStream());
        GuestDriver r = g.copyFor(dev2, 0xa000600L);
        r.transport.restoreState(StateJson.read(json, VirtioState.class, "c"));
        assertEquals(json, StateJson.write(r.transport.saveState()));
        assertEquals(5, dev2.pendingInput());
        Buf in = r.in(16);
        r.request(VirtioConsoleDevice.RX, in);
        assertEquals("hello", new String(Arrays.copyOf(r.bytes(in), 5), StandardCharsets.US_ASCII));
        r.transport.close();
    }

    @Test
    void oversizedInputIsRefused() {
        VirtioConsoleDevice dev = new VirtioConsoleDevice(new ByteArrayOutputStream());
        GuestDriver g = new GuestDriver(dev, 0xa000600L).start(0, 16);
        VirtioState s = g.transport.saveState();
        g.transport.close();
        String big =
                StateJson.write(
                        new VirtioConsoleState(
                                new byte[VirtioConsoleDevice.MAX_PENDING_INPUT + 1]));
        Map<String, Object> device = Map.of("pendingInput", big.substring(17, big.length() - 2));
        VirtioState hostile =
                new VirtioState(
                        s.status(), 0, 0, s.driverFeatures(), 0, 0, 0, false, s.queues(), device);
        VirtioConsoleDevice dev2 = new VirtioConsoleDevice(new ByteArrayOutputStream());
        GuestDriver r = g.copyFor(dev2, 0xa000600L);
        SnapshotException e =
                assertThrows(SnapshotException.class, () -> r.transport.restoreState(hostile));
        assertTrue(
                e.getMessage()
                        .startsWith(
                                "snapshot: virtio.0xa000600: device: pendingInput of 65537 bytes"),
                e.getMessage());
        assertEquals(0, r.status());
        r.transport.close();
    }
}
