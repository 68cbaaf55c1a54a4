package dev.jvmm.kvm.sys;

import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.jvmm.kvm.KvmException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * Linux tap interfaces through {@code /dev/net/tun} (linux/if_tun.h, linux/if.h). The constants are
 * checked against the C compiler by BindingsMatchCompilerTest.
 */
public final class Tun {
    public static final String DEVICE = "/dev/net/tun";

    /** _IOW('T', 202, int). */
    public static final long TUNSETIFF = 0x400454caL;

    public static final short IFF_TAP = 0x0002, IFF_NO_PI = 0x1000;

    /** Interface names hold at most IFNAMSIZ - 1 bytes plus the NUL. */
    public static final int IFNAMSIZ = 16;

    /** sizeof(struct ifreq) on LP64, and offsetof(struct ifreq, ifr_flags). */
    public static final int IFREQ_SIZE = 40, IFREQ_FLAGS_OFFSET = 16;

    private Tun() {}

    /**
     * Why {@code name} cannot name a network interface, or null if it can: the kernel's
     * dev_valid_name() rules (1-15 bytes, not "." or "..", no '/', ':' or whitespace), restricted
     * to printable ASCII so it can be shown in messages as typed.
     */
    public static String invalidNameReason(String name) {
        if (name.isEmpty()) return "an interface name cannot be empty";
        if (name.length() >= IFNAMSIZ)
            return "interface names have at most " + (IFNAMSIZ - 1) + " characters";
        if (name.equals(".") || name.equals("..")) return "'.' and '..' are not interface names";
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c > '~' || c == '/' || c == ':') {
                return "interface names cannot contain '"
                        + (c < ' ' || c > '~'
                                ? String.format("\\u%04x", (int) c)
                                : String.valueOf(c))
                        + "'";
            }
        }
        return null;
    }

    /**
     * Attaches to tap {@code name} as a frame device without packet-info header (IFF_TAP |
     * IFF_NO_PI), creating a non-persistent one if it does not exist and the caller may
     * (CAP_NET_ADMIN). The fd is non-blocking and close-on-exec; each read returns one ethernet
     * frame, each write sends one.
     *
     * @throws IllegalArgumentException for a name the kernel would refuse
     * @throws KvmException naming {@code open(/dev/net/tun)} or {@code TUNSETIFF(name)} and the
     *     errno (EBUSY: another process has it; EPERM: not allowed to create or attach)
     */
    public static int openTap(String name) {
        String bad = invalidNameReason(name);
        if (bad != null) throw new IllegalArgumentException("tap '" + name + "': " + bad);
        int fd = Libc.open(DEVICE, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ifr = a.allocate(IFREQ_SIZE, 8);
            byte[] n = name.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(MemorySegment.ofArray(n), 0, ifr, 0, n.length);
            ifr.set(JAVA_SHORT, IFREQ_FLAGS_OFFSET, (short) (IFF_TAP | IFF_NO_PI));
            Libc.ioctl(fd, TUNSETIFF, ifr, "TUNSETIFF(" + name + ")");
            return fd;
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }
}
