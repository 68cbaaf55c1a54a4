package dev.jvmm.kvm.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.KvmUnavailableException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The libc layer against the real (x86_64 or arm64) kernel: errno capture, memory, eventfd,
 * signals.
 */
class LibcTest {
    @Test
    void openOfAMissingFileCapturesEnoent() {
        assertEquals(-Errno.ENOENT, Libc.openRaw("/nonexistent/jvmm", Libc.O_RDONLY, 0));
        var e =
                assertThrows(
                        KvmException.class, () -> Libc.open("/nonexistent/jvmm", Libc.O_RDONLY, 0));
        assertEquals("open(/nonexistent/jvmm): ENOENT", e.getMessage());
    }

    @Test
    void ioctlOnABadFdCapturesEbadf() {
        assertEquals(-Errno.EBADF, Libc.ioctlRaw(-1, 0xAE00, 0L));
        var e =
                assertThrows(
                        KvmException.class,
                        () -> Libc.ioctl(-1, 0xAE00, 0L, "KVM_GET_API_VERSION"));
        assertEquals("KVM_GET_API_VERSION: EBADF", e.getMessage());
    }

    @Test
    void missingKvmDeviceIsAOneLineUnavailableError() {
        var e = assertThrows(KvmUnavailableException.class, () -> Kvm.open("/nonexistent/kvm"));
        assertEquals(KvmUnavailableException.Reason.MISSING, e.reason());
        assertTrue(e.getMessage().startsWith("/nonexistent/kvm does not exist"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void anonymousMappingLocksAndPopulates() {
        MemorySegment m =
                Libc.mmap(
                        1 << 16,
                        Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS,
                        -1,
                        0,
                        "mmap(test)");
        try {
            m.set(ValueLayout.JAVA_LONG, 8, 0x1122334455667788L);
            assertEquals(0x1122334455667788L, m.get(ValueLayout.JAVA_LONG, 8));
            Libc.mlock(m);
            Libc.munlock(m);
            int r = Libc.madviseRaw(m, Libc.MADV_POPULATE_WRITE);
            assertTrue(r == 0 || r == -Errno.EINVAL, "MADV_POPULATE_WRITE: " + Errno.name(-r));
        } finally {
            Libc.munmap(m);
        }
    }

    @Test
    void eventfdCountsWrites() {
        int efd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(ValueLayout.JAVA_LONG);
            assertEquals(-Errno.EAGAIN, Libc.readRaw(efd, buf));
            buf.set(ValueLayout.JAVA_LONG, 0, 3);
            assertEquals(8, Libc.writeRaw(efd, buf));
            assertEquals(8, Libc.writeRaw(efd, buf));
            assertEquals(8, Libc.readRaw(efd, buf));
            assertEquals(6, buf.get(ValueLayout.JAVA_LONG, 0));
        } finally {
            Libc.close(efd);
        }
    }

    @Test
    void memlockLimitIsReadable() {
        long[] lim = Libc.getrlimit(Libc.RLIMIT_MEMLOCK);
        assertEquals(2, lim.length);
        assertTrue(lim[1] == Libc.RLIM_INFINITY || (lim[1] >= lim[0] && lim[0] >= 0));
    }

    @Test
    void aBlockedKickSignalStaysPendingAndIsDrainedWithoutAHandler() throws Exception {
        CountDownLatch ready = new CountDownLatch(1);
        CountDownLatch sent = new CountDownLatch(1);
        int[] tid = new int[1];
        CompletableFuture<boolean[]> result = new CompletableFuture<>();
        Thread t =
                Thread.ofPlatform()
                        .start(
                                () -> {
                                    try (Arena a = Arena.ofConfined()) {
                                        Signals.threadMask(
                                                Libc.SIG_BLOCK,
                                                Signals.sigset(a, Signals.KICK_SIGNAL),
                                                MemorySegment.NULL);
                                        boolean before = Signals.drain(Signals.KICK_SIGNAL);
                                        tid[0] = Signals.gettid();
                                        ready.countDown();
                                        sent.await(10, TimeUnit.SECONDS);
                                        boolean first = Signals.drain(Signals.KICK_SIGNAL);
                                        boolean second = Signals.drain(Signals.KICK_SIGNAL);
                                        result.complete(new boolean[] {before, first, second});
                                    } catch (Throwable e) {
                                        result.completeExceptionally(e);
                                    }
                                });
        assertTrue(ready.await(10, TimeUnit.SECONDS));
        Signals.tgkill(tid[0], Signals.KICK_SIGNAL);
        sent.countDown();
        boolean[] r = result.get(10, TimeUnit.SECONDS);
        t.join();
        assertFalse(r[0], "nothing pending before the kick");
        assertTrue(r[1], "the kick is pending and drained");
        assertFalse(r[2], "drained exactly once");
    }

    @Test
    void sigsetBitsFollowTheKernelLayout() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = Signals.sigset(a, 1, 40, 64, 65);
            assertEquals(1L | (1L << 39) | (1L << 63), s.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(1L, s.get(ValueLayout.JAVA_LONG, 8));
        }
    }

    @Test
    void ofdLocksBelongToTheOpenFileDescriptionNotTheProcess() throws Exception {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("jvmm-ofd", ".img");
        try {
            int a = Libc.open(f.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
            int b = Libc.open(f.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
            try {
                assertEquals(0, Libc.ofdLockRaw(a, Libc.F_WRLCK));
                // a second description in the same process conflicts (a POSIX lock would not)
                assertEquals(-Errno.EAGAIN, Libc.ofdLockRaw(b, Libc.F_RDLCK));
                int c = Libc.open(f.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
                Libc.close(c); // closing another descriptor of the file keeps a's lock
                assertEquals(-Errno.EAGAIN, Libc.ofdLockRaw(b, Libc.F_RDLCK));
                assertEquals(0, Libc.ofdLockRaw(a, Libc.F_UNLCK));
                assertEquals(0, Libc.ofdLockRaw(b, Libc.F_RDLCK));
            } finally {
                Libc.close(a);
                Libc.close(b);
            }
        } finally {
            java.nio.file.Files.delete(f);
        }
    }

    @Test
    void heapMemoryIsRefusedAsAPointerArgument() {
        MemorySegment heap = MemorySegment.ofArray(new byte[64]);
        var e = assertThrows(IllegalArgumentException.class, () -> Libc.readRaw(0, heap));
        assertTrue(e.getMessage().contains("native memory"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Libc.ioctlRaw(-1, 0xAE00, heap));
    }

    @Test
    void pointerLengthAndIntArgumentsArriveThroughTheOneShape() throws Exception {
        // write(2) then read(2) of a temporary file: a pointer, a length and an fd each way,
        // and the ssize_t results are the byte counts (a short read proves the length was used)
        java.nio.file.Path f = java.nio.file.Files.createTempFile("jvmm-libc", ".bin");
        try (Arena a = Arena.ofConfined()) {
            int w = Libc.open(f.toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
            try {
                MemorySegment out = a.allocateFrom("0123456789");
                assertEquals(7, Libc.writeRaw(w, out.asSlice(0, 7)));
            } finally {
                Libc.close(w);
            }
            int r = Libc.open(f.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            try {
                MemorySegment in = a.allocate(16);
                assertEquals(7, Libc.readRaw(r, in));
                assertEquals("0123456", in.getString(0));
                assertEquals(0, Libc.readRaw(r, in)); // end of file
            } finally {
                Libc.close(r);
            }
            // an int result of -1 (EBADF) is seen as -1 whatever the return register's upper half
            assertEquals(-Errno.EBADF, Libc.readRaw(-1, a.allocate(8)));
            var e = assertThrows(KvmException.class, () -> Libc.close(Integer.MAX_VALUE));
            assertEquals(Errno.EBADF, e.errno());
        } finally {
            java.nio.file.Files.delete(f);
        }
    }
}
