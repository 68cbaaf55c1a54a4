package dev.jvmm.kvm.sys;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.KvmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** termios against a real pseudo-terminal, so the terminal running the build is never touched. */
class TermiosTest {
    @Test
    void isattyIsTrueOnlyForTerminals() throws IOException {
        try (Pty pty = Pty.open()) {
            assertTrue(Termios.isatty(pty.slave()), pty.slaveName());
        }
        int[] p = Pty.pipe();
        try {
            assertFalse(Termios.isatty(p[0]));
            assertFalse(Termios.isatty(p[1]));
        } finally {
            Libc.close(p[0]);
            Libc.close(p[1]);
        }
        Path f = Files.createTempFile("jvmm-termios", ".txt");
        int fd = Libc.open(f.toString(), Libc.O_RDONLY, 0);
        try {
            assertFalse(Termios.isatty(fd));
            var e = assertThrows(KvmException.class, () -> Termios.tcgetattr(fd));
            assertEquals("tcgetattr(" + fd + "): ENOTTY", e.getMessage());
        } finally {
            Libc.close(fd);
            Files.delete(f);
        }
        assertFalse(Termios.isatty(-1));
    }

    @Test
    void rawModeClearsLineDisciplineAndRestoreGivesBackTheSavedBytes() {
        try (Pty pty = Pty.open()) {
            byte[] saved = Termios.tcgetattr(pty.slave());
            assertEquals(Termios.SIZE, saved.length);
            int cooked = Termios.ICANON | Termios.ECHO | Termios.ISIG;
            assertEquals(cooked, Termios.lflag(saved) & cooked, "a new pty starts cooked");

            byte[] raw = Termios.makeRaw(saved);
            assertNotEquals(Termios.lflag(saved), Termios.lflag(raw));
            Termios.tcsetattr(pty.slave(), Termios.TCSANOW, raw);
            byte[] now = Termios.tcgetattr(pty.slave());
            assertEquals(0, Termios.lflag(now) & (cooked | Termios.IEXTEN));
            assertEquals(0, Termios.iflag(now) & Termios.ICRNL, "CR must reach the guest as CR");
            assertEquals(0, Termios.oflag(now) & Termios.OPOST);

            Termios.tcsetattr(pty.slave(), Termios.TCSAFLUSH, saved);
            assertArrayEquals(saved, Termios.tcgetattr(pty.slave()));
        }
    }

    @Test
    void makeRawLeavesItsArgumentAlone() {
        try (Pty pty = Pty.open()) {
            byte[] saved = Termios.tcgetattr(pty.slave());
            byte[] copy = saved.clone();
            Termios.makeRaw(saved);
            assertArrayEquals(copy, saved);
        }
        assertThrows(IllegalArgumentException.class, () -> Termios.makeRaw(new byte[36]));
    }

    @Test
    void pollSeesInputAndTimesOut() {
        int[] p = Pty.pipe();
        try {
            assertEquals(0, Poll.pollRaw(p[0], Poll.POLLIN, 10));
            try (var a = java.lang.foreign.Arena.ofConfined()) {
                Libc.writeRaw(p[1], a.allocateFrom("x"));
            }
            assertEquals(Poll.POLLIN, Poll.pollRaw(p[0], Poll.POLLIN, 1000) & Poll.POLLIN);
            Libc.close(p[1]);
            p[1] = -1;
            // data still buffered plus the writer gone: POLLIN and POLLHUP
            assertTrue((Poll.pollRaw(p[0], Poll.POLLIN, 1000) & Poll.POLLHUP) != 0);
        } finally {
            Libc.close(p[0]);
            if (p[1] >= 0) Libc.close(p[1]);
        }
        assertEquals(Poll.POLLNVAL, Poll.pollRaw(1 << 20, Poll.POLLIN, 0));
    }
}
