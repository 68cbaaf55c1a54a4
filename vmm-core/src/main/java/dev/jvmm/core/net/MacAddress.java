package dev.jvmm.core.net;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A unicast ethernet address for a guest NIC, held in the low 48 bits of a long (first octet
 * highest). Multicast and all-zero addresses are refused: Linux's virtio-net would replace them
 * with a random one.
 */
public record MacAddress(long value) {
    private static final long MASK = (1L << 48) - 1;
    private static final long MULTICAST_BIT = 1L << 40, LOCAL_BIT = 1L << 41;

    public MacAddress {
        if ((value & ~MASK) != 0)
            throw new IllegalArgumentException(String.format("0x%x is wider than 48 bits", value));
        if ((value & MULTICAST_BIT) != 0) {
            throw new IllegalArgumentException(
                    format(value)
                            + " is a multicast address; a NIC needs a unicast one (even first octet)");
        }
        if (value == 0)
            throw new IllegalArgumentException("00:00:00:00:00:00 is not a usable MAC address");
    }

    /**
     * Parses six two-digit hex octets separated by colons ({@code 52:54:00:12:34:56}, any case).
     *
     * @throws IllegalArgumentException naming the text and what is wrong with it
     */
    public static MacAddress parse(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length != 6) {
            throw new IllegalArgumentException(
                    "'" + text + "' is not a MAC address (six hex octets like 52:54:00:12:34:56)");
        }
        long v = 0;
        for (String p : parts) {
            if (p.length() != 2
                    || !HexFormat.isHexDigit(p.charAt(0))
                    || !HexFormat.isHexDigit(p.charAt(1))) {
                throw new IllegalArgumentException(
                        "'"
                                + text
                                + "' is not a MAC address (six hex octets like 52:54:00:12:34:56)");
            }
            v = v << 8 | HexFormat.fromHexDigits(p);
        }
        return new MacAddress(v);
    }

    /**
     * A locally administered unicast address derived from {@code seed} (jvmm uses the tap name):
     * the same seed gives the same address on every run, so the guest's network configuration and
     * the host's neighbour tables stay valid across restarts, and different taps get different
     * addresses.
     */
    public static MacAddress derived(String seed) {
        byte[] h;
        try {
            h =
                    MessageDigest.getInstance("SHA-256")
                            .digest(("jvmm-nic:" + seed).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        long v = 0;
        for (int i = 0; i < 6; i++) v = v << 8 | (h[i] & 0xff);
        v = (v & ~MULTICAST_BIT) | LOCAL_BIT;
        return new MacAddress(v);
    }

    /** The six octets in wire order, as virtio-net's config space holds them. */
    public byte[] bytes() {
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) b[i] = (byte) (value >>> (40 - 8 * i));
        return b;
    }

    public boolean isLocallyAdministered() {
        return (value & LOCAL_BIT) != 0;
    }

    @Override
    public String toString() {
        return format(value);
    }

    private static String format(long v) {
        StringBuilder s = new StringBuilder(17);
        for (int i = 0; i < 6; i++) {
            if (i > 0) s.append(':');
            s.append(String.format("%02x", (v >>> (40 - 8 * i)) & 0xff));
        }
        return s.toString();
    }
}
