package dev.jvmm.cli.term;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.sys.Pty;
import dev.jvmm.kvm.sys.Termios;
import org.junit.jupiter.api.Test;

/** Against a pseudo-terminal: the terminal running the build is never touched. */
class RawTerminalTest {
    private static final int COOKED = Termios.ICANON | Termios.ECHO | Termios.ISIG;

    @Test
    void entersRawModeAndRestoresExactlyOnce() {
        try (Pty pty = Pty.open()) {
            byte[] before = Termios.tcgetattr(pty.slave());
            RawTerminal t = RawTerminal.enter(pty.slave());
            assertTrue(t.isRaw());
            assertEquals(0, Termios.lflag(Termios.tcgetattr(pty.slave())) & COOKED);

            t.close();
            assertFalse(t.isRaw());
            assertArrayEquals(before, Termios.tcgetattr(pty.slave()));

            // A later close must not write the saved bytes over whatever the terminal is now.
            byte[] other = Termios.makeRaw(before);
            Termios.tcsetattr(pty.slave(), Termios.TCSANOW, other);
            t.close();
            assertArrayEquals(other, Termios.tcgetattr(pty.slave()));
        }
    }

    @Test
    void aPipeIsLeftAlone() {
        int[] p = Pty.pipe();
        try (RawTerminal t = RawTerminal.enter(p[0])) {
            assertFalse(t.isRaw());
        } finally {
            Libc.close(p[0]);
            Libc.close(p[1]);
        }
    }
}
