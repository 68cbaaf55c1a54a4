package dev.jvmm.core.virtio.blk;

import static dev.jvmm.core.virtio.blk.BlkTestSupport.*;
import static dev.jvmm.core.virtio.blk.VirtioBlkDevice.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.virtio.GuestDriver;
import dev.jvmm.core.virtio.GuestDriver.Buf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pause's quiesce: the request in flight finishes first, then the disk is flushed. */
class VirtioBlkQuiesceTest {
    @TempDir Path dir;
    private GuestDriver g;

    /** Records the order of writes and flushes; a write can be held until released. */
    private static final class SlowBackend extends CountingBackend {
        final List<String> events = new CopyOnWriteArrayList<>();
        final CountDownLatch writing = new CountDownLatch(1), release = new CountDownLatch(1);

        SlowBackend(BlockBackend inner) {
            super(inner);
        }

        @Override
        public void write(long offset, ByteBuffer... src) throws IOException {
            writing.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            super.write(offset, src);
            events.add("write " + offset / SECTOR);
        }

        @Override
        public void flush() throws IOException {
            super.flush();
            events.add("flush");
        }
    }

    @AfterEach
    void close() {
        if (g != null) g.transport.close();
    }

    @Test
    void quiesceWaitsForTheRequestInFlightThenFlushes() throws Exception {
        Path img = image(dir, 16);
        SlowBackend backend = new SlowBackend(FileBlockBackend.open(img, false));
        VirtioBlkDevice dev = new VirtioBlkDevice(backend, "s");
        g = new GuestDriver(dev).start(0, 16);
        byte[] data = pattern(1024, 5);
        Buf st = g.in(1);
        Thread guest =
                Thread.ofPlatform().start(() -> g.request(0, header(g, T_OUT, 3), g.out(data), st));
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
        pause.join(300);
        assertTrue(pause.isAlive(), "quiesce returned with a request in flight");
        assertEquals(List.of(), backend.events);

        backend.release.countDown();
        pause.join(5000);
        guest.join(5000);
        assertFalse(pause.isAlive());
        assertEquals(List.of("write 3", "flush"), backend.events);
        assertEquals(S_OK, status(g, st));
        byte[] onDisk = Files.readAllBytes(img);
        assertArrayEquals(data, Arrays.copyOfRange(onDisk, 3 * SECTOR, 3 * SECTOR + 1024));
    }

    @Test
    void aReadOnlyDiskIsNotFlushed() throws Exception {
        CountingBackend backend = new CountingBackend(FileBlockBackend.open(image(dir, 16), true));
        VirtioBlkDevice dev = new VirtioBlkDevice(backend, "s");
        g = new GuestDriver(dev).start(0, 16);
        dev.quiesce();
        assertEquals(0, backend.flushes.get());
    }

    @Test
    void aFailedFlushFailsTheQuiesce() throws Exception {
        CountingBackend backend = new CountingBackend(FileBlockBackend.open(image(dir, 16), false));
        VirtioBlkDevice dev = new VirtioBlkDevice(backend, "s");
        g = new GuestDriver(dev).start(0, 16);
        backend.fail = true;
        IOException e = assertThrows(IOException.class, dev::quiesce);
        assertEquals("injected flush failure", e.getMessage());
    }
}
