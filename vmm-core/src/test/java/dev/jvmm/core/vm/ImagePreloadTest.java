package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jvmm.core.boot.BootImages;
import dev.jvmm.core.boot.BootPlacement;
import dev.jvmm.core.boot.KernelLoader;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.SegmentGuestMemory;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kernel copied on its own thread: its result, or what ended it, reaches the set-up thread. */
class ImagePreloadTest {
    private static final long BASE = 0x4000_0000L;
    private static final int RAM = 16 << 20;

    @TempDir Path dir;

    /**
     * A minimal arm64 Image (valid header, text_offset 0, 4K pages, anywhere) of {@code n} bytes.
     */
    private BootImages images(int n) throws Exception {
        byte[] b = new byte[n];
        for (int i = 64; i < n; i++) b[i] = (byte) (i * 31 + 7);
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(0, 0x14000010);
        h.putLong(16, 2L << 20);
        h.putLong(24, 0b1010);
        h.putInt(56, 0x644d5241); // "ARM\x64"
        Path k = Files.write(dir.resolve("Image"), b);
        return KernelLoader.prepare(k, null, "", BASE, RAM);
    }

    @Test
    void theCopyArrivesWhereThePlacementSays() throws Exception {
        SegmentGuestMemory mem = SegmentGuestMemory.onHeap(BASE, RAM);
        BootImages images = images(70_000);
        BootPlacement p = ImagePreload.start(mem, images).await();
        assertEquals(images.placement(), p);
        byte[] back = new byte[70_000];
        mem.read(p.kernelLoad(), back);
        assertArrayEquals(Files.readAllBytes(dir.resolve("Image")), back);
    }

    @Test
    void anErrorOnTheCopyThreadIsRethrownNotLostAsANullPlacement() throws Exception {
        OutOfMemoryError oom = new OutOfMemoryError("test: no memory for the copy");
        GuestMemory failing = new FailingMemory(SegmentGuestMemory.onHeap(BASE, RAM), oom);
        ImagePreload preload = ImagePreload.start(failing, images(70_000));
        assertSame(oom, assertThrows(OutOfMemoryError.class, preload::await));
    }

    @Test
    void aRuntimeExceptionIsABugNamedAsSuch() throws Exception {
        IllegalArgumentException bad = new IllegalArgumentException("test");
        GuestMemory failing = new FailingMemory(SegmentGuestMemory.onHeap(BASE, RAM), bad);
        ImagePreload preload = ImagePreload.start(failing, images(70_000));
        IllegalStateException e = assertThrows(IllegalStateException.class, preload::await);
        assertSame(bad, e.getCause());
    }

    /** Guest memory whose slices throw {@code t} (what a copy into it then ends with). */
    private record FailingMemory(GuestMemory inner, Throwable t) implements GuestMemory {
        @Override
        public long base() {
            return inner.base();
        }

        @Override
        public long size() {
            return inner.size();
        }

        @Override
        public MemorySegment slice(long gpa, long len) {
            if (t instanceof Error e) throw e;
            throw (RuntimeException) t;
        }
    }
}
