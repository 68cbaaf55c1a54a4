package dev.jvmm.kvm.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.KvmException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Terminal attributes for the guest console. A glibc {@code struct termios} is handled as an opaque
 * {@link #SIZE}-byte buffer: the VMM saves it, derives a raw copy with glibc's own {@code
 * cfmakeraw} (a hand-rolled flag set left ICRNL on in Cloud Hypervisor, PR #3344) and writes the
 * saved bytes back. Only the flag words tests and logs look at have offsets here.
 *
 * <p>Layout checked with gcc and aarch64-linux-gnu-gcc (glibc 2.36): sizeof 60, c_iflag 0, c_oflag
 * 4, c_cflag 8, c_lflag 12, c_cc 17 (NCCS 32), identical on x86_64 and arm64.
 */
public final class Termios {
    public static final int SIZE = 60;
    public static final int TCSANOW = 0, TCSADRAIN = 1, TCSAFLUSH = 2;

    /** c_lflag bits. */
    public static final int ISIG = 0x1, ICANON = 0x2, ECHO = 0x8, IEXTEN = 0x8000;

    /** c_iflag bit: CR to NL on input, the one a hand-rolled raw mode tends to miss. */
    public static final int ICRNL = 0x100;

    /** c_oflag bit: output post-processing (NL to CR-NL). */
    public static final int OPOST = 0x1;

    private static final long C_IFLAG = 0, C_OFLAG = 4, C_LFLAG = 12;

    private Termios() {}

    private static final class Fn {
        static final MemorySegment ISATTY = Libc.function("isatty"),
                TCGETATTR = Libc.function("tcgetattr"),
                TCSETATTR = Libc.function("tcsetattr"),
                CFMAKERAW = Libc.function("cfmakeraw");
    }

    /** isatty(3): false for pipes, regular files and bad fds alike. */
    public static boolean isatty(int fd) {
        return (int) Libc.call(Fn.ISATTY, fd) == 1;
    }

    /** tcgetattr(3): the fd's attributes as an opaque {@link #SIZE}-byte struct termios. */
    public static byte[] tcgetattr(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment t = a.allocate(SIZE, 4); // zeroed, so padding compares equal across calls
            if ((int) Libc.call(Fn.TCGETATTR, fd, Libc.address(t)) == -1) {
                throw new KvmException("tcgetattr(" + fd + ")", Libc.lastErrno());
            }
            return t.toArray(JAVA_BYTE);
        }
    }

    /**
     * tcsetattr(3) with bytes from {@link #tcgetattr} or {@link #makeRaw}. Retried on EINTR: a
     * signal arriving while TCSADRAIN/TCSAFLUSH waits must not leave the terminal half-restored.
     */
    public static void tcsetattr(int fd, int when, byte[] termios) {
        if (termios.length != SIZE)
            throw new IllegalArgumentException("struct termios is " + SIZE + " bytes");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment t = a.allocate(SIZE, 4);
            MemorySegment.copy(MemorySegment.ofArray(termios), 0, t, 0, SIZE);
            while ((int) Libc.call(Fn.TCSETATTR, fd, when, Libc.address(t)) == -1) {
                int errno = Libc.lastErrno();
                if (errno != Errno.EINTR) throw new KvmException("tcsetattr(" + fd + ")", errno);
            }
        }
    }

    /**
     * A raw copy of {@code termios} made by glibc's cfmakeraw: no echo, no line editing, no CR/NL
     * translation, 8-bit, VMIN 1. ISIG is off too, so Ctrl-C and Ctrl-Z reach the guest as bytes
     * (QEMU -nographic does the same); the VMM is left with its Ctrl-A escape. {@code termios} is
     * not changed.
     */
    public static byte[] makeRaw(byte[] termios) {
        if (termios.length != SIZE)
            throw new IllegalArgumentException("struct termios is " + SIZE + " bytes");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment t = a.allocate(SIZE, 4);
            MemorySegment.copy(MemorySegment.ofArray(termios), 0, t, 0, SIZE);
            Libc.call(Fn.CFMAKERAW, Libc.address(t));
            return t.toArray(JAVA_BYTE);
        }
    }

    public static int iflag(byte[] termios) {
        return word(termios, C_IFLAG);
    }

    public static int oflag(byte[] termios) {
        return word(termios, C_OFLAG);
    }

    public static int lflag(byte[] termios) {
        return word(termios, C_LFLAG);
    }

    private static int word(byte[] termios, long offset) {
        return MemorySegment.ofArray(termios)
                .get(JAVA_INT_UNALIGNED, offset); // native order, as glibc wrote it
    }
}
