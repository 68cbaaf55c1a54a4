package dev.jvmm.core.virtio.blk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.sys.Libc;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image lock: held for exactly the backend's lifetime, whatever else this process does with the
 * file.
 */
class FileBlockBackendTest {
    @TempDir Path dir;

    /** What another VM would try: its own open file description and a lock on it; 0 or -errno. */
    private static int lockFromAnotherDescription(Path p, short type) {
        int fd = Libc.open(p.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        try {
            return Libc.ofdLockRaw(fd, type);
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    @SuppressWarnings("try") // b is held only for its lock, which the body checks from outside
    void closingAnotherDescriptorOfTheImageKeepsTheLock() throws IOException {
        Path img = Files.write(dir.resolve("disk.img"), new byte[8192]);
        try (FileBlockBackend b = FileBlockBackend.open(img, false)) {
            // e.g. the same file read as an initrd: with a POSIX lock this close dropped it
            try (FileChannel reader = FileChannel.open(img, StandardOpenOption.READ)) {
                reader.read(java.nio.ByteBuffer.allocate(16));
            }
            assertEquals(
                    -Errno.EAGAIN,
                    lockFromAnotherDescription(img, Libc.F_RDLCK),
                    "the exclusive lock is gone");
            IOException e = assertThrows(IOException.class, () -> FileBlockBackend.open(img, true));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
        assertEquals(0, lockFromAnotherDescription(img, Libc.F_WRLCK), "close releases it");
    }

    @Test
    void readOnlyImagesShareTheLockAndExcludeWriters() throws IOException {
        Path img = Files.write(dir.resolve("ro.img"), new byte[4096]);
        try (FileBlockBackend a = FileBlockBackend.open(img, true);
                FileBlockBackend b = FileBlockBackend.open(img, true)) {
            assertEquals(4096, a.size());
            assertEquals(4096, b.size());
            assertEquals(-Errno.EAGAIN, lockFromAnotherDescription(img, Libc.F_WRLCK));
            IOException e =
                    assertThrows(IOException.class, () -> FileBlockBackend.open(img, false));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
    }

    /** Buffers of 1..(n % 7 + 1)*64 bytes, more of them than one readv/writev takes (IOV_MAX). */
    private static ByteBuffer[] buffers(int count, boolean direct) {
        ByteBuffer[] b = new ByteBuffer[count];
        for (int i = 0; i < count; i++) {
            int len = (i % 7 + 1) * 64;
            b[i] = direct ? ByteBuffer.allocateDirect(len) : ByteBuffer.allocate(len);
        }
        return b;
    }

    @Test
    void gatheredWriteAndScatteredReadCoverEveryBufferInOrder() throws IOException {
        ByteBuffer[] out = buffers(1500, true); // writev takes at most 1024 at a time
        int total = 0;
        for (ByteBuffer b : out) {
            while (b.hasRemaining()) b.put((byte) (total++ * 31 + 7));
            b.flip();
        }
        Path img = Files.write(dir.resolve("g.img"), new byte[total + 4096]);
        try (FileBlockBackend b = FileBlockBackend.open(img, false)) {
            b.write(1024, out);
            for (ByteBuffer x : out) assertEquals(0, x.remaining(), "every buffer is consumed");
            ByteBuffer[] in = buffers(1500, true);
            b.read(1024, in);
            byte[] got = new byte[total];
            int at = 0;
            for (ByteBuffer x : in) {
                assertEquals(0, x.remaining(), "every buffer is filled");
                x.flip();
                x.get(got, at, x.remaining());
                at += x.limit();
            }
            byte[] file = Files.readAllBytes(img);
            byte[] want = new byte[total];
            for (int i = 0; i < total; i++) want[i] = (byte) (i * 31 + 7);
            assertArrayEquals(want, got);
            assertArrayEquals(want, java.util.Arrays.copyOfRange(file, 1024, 1024 + total));
            assertEquals(0, file[1023]);
            assertEquals(0, file[1024 + total]);
        }
    }

    @Test
    void scatteredReadPastTheEndIsEof() throws IOException {
        Path img = Files.write(dir.resolve("s.img"), new byte[4096]);
        try (FileBlockBackend b = FileBlockBackend.open(img, true)) {
            assertThrows(
                    EOFException.class,
                    () -> b.read(3584, ByteBuffer.allocate(512), ByteBuffer.allocate(512)));
            IOException e =
                    assertThrows(
                            IOException.class,
                            () -> b.write(0, ByteBuffer.allocate(512), ByteBuffer.allocate(512)));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        }
    }
}
