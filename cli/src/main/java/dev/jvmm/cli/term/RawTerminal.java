package dev.jvmm.cli.term;

import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.sys.Termios;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Puts the terminal on stdin into raw mode for the guest console and restores it on every exit
 * path: {@link #close()} on the normal path, a JVM shutdown hook for SIGINT/SIGTERM/SIGHUP and
 * System.exit (Cloud Hypervisor needed PR #510 and issue #4248 for those). Whichever comes first
 * restores; the other does nothing.
 *
 * <p>Construct one only when the console really reads stdin: a {@code --serial none} or {@code
 * file=} run leaves the terminal alone, so job control keeps working (Cloud Hypervisor PR #5343).
 * When stdin is not a terminal (scripts pipe it) this does nothing at all.
 */
public final class RawTerminal implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RawTerminal.class.getName());
    private static final int STDIN = 0;

    private final int fd;
    private final byte[] saved; // null: not a tty, nothing to restore
    private final AtomicBoolean restored = new AtomicBoolean();
    private final Thread hook;

    private RawTerminal(int fd, byte[] saved) {
        this.fd = fd;
        this.saved = saved;
        this.hook = saved == null ? null : new Thread(this::restore, "jvmm-tty-restore");
    }

    /** Raw mode on stdin if stdin is a terminal; otherwise a no-op instance. */
    public static RawTerminal enterStdin() {
        return enter(STDIN);
    }

    /** Raw mode on {@code fd} if it is a terminal (tests use a pseudo-terminal). */
    public static RawTerminal enter(int fd) {
        if (!Termios.isatty(fd)) return new RawTerminal(fd, null);
        byte[] saved = Termios.tcgetattr(fd);
        RawTerminal t = new RawTerminal(fd, saved);
        // Hook first: a signal between the two steps must not leave a raw terminal behind.
        Runtime.getRuntime().addShutdownHook(t.hook);
        try {
            Termios.tcsetattr(fd, Termios.TCSANOW, Termios.makeRaw(saved));
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    /** True when the terminal was switched to raw mode (stdin is a tty) and not yet restored. */
    public boolean isRaw() {
        return saved != null && !restored.get();
    }

    /** Restores the saved attributes; only the first call (or the shutdown hook) does anything. */
    @Override
    public void close() {
        if (saved == null) return;
        restore();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook may be running now; restore() already happened once and it will do nothing
        }
    }

    private void restore() {
        if (!restored.compareAndSet(false, true)) return;
        try {
            Termios.tcsetattr(fd, Termios.TCSANOW, saved);
        } catch (KvmException e) {
            // The terminal may be gone (hang-up); nothing else to try, and exit must go on.
            LOG.log(
                    System.Logger.Level.WARNING,
                    "could not restore the terminal: " + e.getMessage());
        }
    }
}
