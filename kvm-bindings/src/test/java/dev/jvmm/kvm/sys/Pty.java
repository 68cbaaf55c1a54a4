package dev.jvmm.kvm.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jvmm.kvm.KvmException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * A pseudo-terminal pair for tests (also used by the cli tests through the test-jar): the slave is
 * a real tty whose attributes can be changed without touching the terminal the build runs in.
 */
public final class Pty implements AutoCloseable {
    private static final int O_NOCTTY = 0x100;

    private static final class H {
        static final MethodHandle OPENPT =
                Libc.downcall("posix_openpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle GRANTPT =
                Libc.downcall("grantpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle UNLOCKPT =
                Libc.downcall("unlockpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle PTSNAME_R =
                Libc.downcall(
                        "ptsname_r", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle PIPE =
                Libc.downcall("pipe", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    private final int master, slave;
    private final String slaveName;

    private Pty(int master, int slave, String slaveName) {
        this.master = master;
        this.slave = slave;
        this.slaveName = slaveName;
    }

    /** A new pair; O_NOCTTY so the test JVM never acquires a controlling terminal. */
    public static Pty open() {
        try (Arena a = Arena.ofConfined()) {
            int m =
                    (int)
                            H.OPENPT.invokeExact(
                                    Libc.state(), Libc.O_RDWR | O_NOCTTY | Libc.O_CLOEXEC);
            if (m == -1) throw new KvmException("posix_openpt", Libc.lastErrno());
            if ((int) H.GRANTPT.invokeExact(Libc.state(), m) != 0)
                throw new KvmException("grantpt", Libc.lastErrno());
            if ((int) H.UNLOCKPT.invokeExact(Libc.state(), m) != 0)
                throw new KvmException("unlockpt", Libc.lastErrno());
            MemorySegment name = a.allocate(64);
            int r = (int) H.PTSNAME_R.invokeExact(Libc.state(), m, name, 64L);
            if (r != 0) throw new KvmException("ptsname_r", r);
            String path = name.getString(0);
            return new Pty(m, Libc.open(path, Libc.O_RDWR | O_NOCTTY | Libc.O_CLOEXEC, 0), path);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** pipe(2): {read end, write end}. */
    public static int[] pipe() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            if ((int) H.PIPE.invokeExact(Libc.state(), fds) != 0)
                throw new KvmException("pipe", Libc.lastErrno());
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    public int master() {
        return master;
    }

    public int slave() {
        return slave;
    }

    public String slaveName() {
        return slaveName;
    }

    @Override
    public void close() {
        Libc.close(slave);
        Libc.close(master);
    }
}
