package dev.jvmm.core.virtio.blk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.sys.Libc;
import java.io.IOException;
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
}
