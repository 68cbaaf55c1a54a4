package dev.jvmm.core.virtio.blk;

import static dev.jvmm.core.virtio.blk.BlkTestSupport.*;
import static dev.jvmm.core.virtio.blk.VirtioBlkDevice.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.snapshot.StateJson;
import dev.jvmm.core.virtio.GuestDriver;
import dev.jvmm.core.virtio.GuestDriver.Buf;
import dev.jvmm.core.virtio.GuestDriver.Used;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A virtio-blk transport across a snapshot: the pause lets the request in flight finish into the
 * used ring before anything is saved, and the restored device serves the next request from the
 * saved ring index.
 */
class VirtioBlkSnapshotTest {
    private static final long BASE = 0xa00_0000L;
    @TempDir Path dir;
    private GuestDriver source, dest;

    /** Holds writes until released once a gate is armed. */
    private static final class GatedBackend extends CountingBackend {
        volatile boolean gated;
        final CountDownLatch writing = new CountDownLatch(1), release = new CountDownLatch(1);

        GatedBackend(BlockBackend inner) {
            super(inner);
        }

        @Override
        public void write(long offset, ByteBuffer... src) throws IOException {
            if (gated) {
                writing.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            super.write(offset, src);
        }
    }

    @AfterEach
    void close() {
        if (source != null) source.transport.close();
        if (dest != null) dest.transport.close();
    }

    @Test
    void theRestoredDiskGoesOnFromTheSavedRingIndex() throws Exception {
        Path img = image(dir, 64);
        GatedBackend backend = new GatedBackend(FileBlockBackend.open(img, false));
        VirtioBlkDevice dev = new VirtioBlkDevice(backend, "serial");
        source = new GuestDriver(dev, BASE);
        source.start(Virtio.bit(Virtio.F_RING_EVENT_IDX), 16);
        for (int i = 0; i < 2; i++) {
            Buf st = source.in(1);
            source.request(0, header(source, T_OUT, i), source.out(pattern(512, i)), st);
            assertEquals(S_OK, status(source, st));
        }

        // A request is in flight when the pause comes: the quiesce waits for it.
        backend.gated = true;
        byte[] data = pattern(1024, 9);
        Buf st = source.in(1);
        Thread guest =
                Thread.ofPlatform()
                        .start(
                                () ->
                                        source.request(
                                                0, header(source, T_OUT, 5), source.out(data), st));
        assertTrue(backend.writing.await(5, TimeUnit.SECONDS), "the request is in flight");
        Thread pause =
                Thread.ofPlatform()
                        .start(
                                () -> {
                                    try {
                                        dev.quiesce();
                                    } catch (IOException e) {
                                        throw new IllegalStateException(e);
                                    }
                                });
        pause.join(200);
        assertTrue(pause.isAlive(), "quiesce returned with a request in flight");
        backend.release.countDown();
        pause.join(5000);
        guest.join(5000);
        assertFalse(pause.isAlive());

        VirtioState saved = source.transport.saveState();
        assertEquals(3, source.usedIdx(0), "the request in flight is in the used ring");
        assertEquals(S_OK, status(source, st));
        assertEquals(3, saved.queues().get(0).nextUsed());
        assertEquals(3, saved.queues().get(0).nextAvail());
        assertEquals("virtio.0xa000000", source.transport.stateKey());
        String json = StateJson.write(saved);
        source.transport.close(); // as `snapshot --stop`: the image's lock goes with it

        VirtioBlkDevice dev2 = new VirtioBlkDevice(FileBlockBackend.open(img, false), "serial");
        dest = source.copyFor(dev2, BASE); // guest RAM as saved
        GuestDriver g = dest;
        source = null;
        g.transport.restoreState(StateJson.read(json, VirtioState.class, "virtio.0xa000000"));
        assertEquals(json, StateJson.write(g.transport.saveState()), "saving the restored part");
        assertTrue(g.transport.isActive(), "DRIVER_OK restores an activated device");
        assertEquals(0x0f, g.status());

        // The next request lands in used ring slot 3 and reads what the in-flight one wrote.
        Buf in = g.in(1024), st2 = g.in(1);
        int before = g.interrupts.get();
        g.setUsedEvent(0, 3); // the driver wants an interrupt once entry 3 is used
        Used u = g.request(0, header(g, T_IN, 5), in, st2);
        assertEquals(1024 + 1, u.len());
        assertEquals(4, g.usedIdx(0));
        assertEquals(S_OK, status(g, st2));
        assertArrayEquals(data, g.bytes(in));
        assertEquals(before + 1, g.interrupts.get(), "the used buffer interrupts the driver");
    }

    @Test
    void aTransportBeforeDriverOkStaysInactive() throws Exception {
        VirtioBlkDevice dev = new VirtioBlkDevice(FileBlockBackend.open(image(dir, 8), true), "s");
        source = new GuestDriver(dev);
        source.negotiate(Virtio.bit(Virtio.F_VERSION_1));
        assertEquals(1, source.setupQueue(0, 8));
        String json = StateJson.write(source.transport.saveState());
        source.transport.close();

        VirtioBlkDevice dev2 = new VirtioBlkDevice(FileBlockBackend.open(image(dir, 8), true), "s");
        dest = source.copyFor(dev2, 0);
        source = null;
        dest.transport.restoreState(StateJson.read(json, VirtioState.class, "x"));
        assertFalse(dest.transport.isActive());
        assertEquals(0x0b, dest.status());
        dest.w32(0x30, 0);
        assertEquals(1, dest.r32(0x44), "queue 0 stays ready");
        dest.driverOk();
        assertTrue(dest.transport.isActive(), "the driver finishes the handshake");
    }
}
