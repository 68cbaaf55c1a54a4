package dev.jvmm.core.snapshot;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * The snapshot format, version {@value #VERSION}: a directory holding
 *
 * <ul>
 *   <li>{@value #MEMORY} — guest RAM at its offsets; all-zero 4 KiB pages are holes (never
 *       written), the written pages are listed as runs in the manifest ({@link MemoryImage});
 *   <li>{@value #MANIFEST} — one JSON object ({@link SnapshotManifest}): format name and version,
 *       jvmm version, creation time, the guest-defining configuration ({@link GuestDefinition}),
 *       the host facts the guest depends on ({@link HostFacts}), the memory file's name, size, runs
 *       and CRC32C, and every part's record under its state key in restore order; its last field,
 *       {@code "check"}, is the CRC32C of the file's text with that field's value written as
 *       {@value #CHECK_PLACEHOLDER}.
 * </ul>
 *
 * The manifest is written last, under a temporary name, and renamed into place: a directory without
 * it is a snapshot whose writing did not finish, never mistaken for a complete one.
 *
 * <p>Compatibility: a field added later is optional and read as what older snapshots meant when it
 * is absent ({@code implCpus} as none, {@code virtioTransport} as virtio-mmio), and a new part has
 * a key of its own (virtio-pci functions are {@code virtio-pci.00:NN.0}, virtio-mmio transports
 * {@code virtio.0x...}), so the version stays; an older jvmm refuses such a snapshot in one line
 * (unknown fields are refused). A change an older reader would misread bumps {@link #VERSION}.
 *
 * <p>Why CRC32C and runs: a restore should cost what the guest actually used. The JDK's CRC32C is
 * hardware-accelerated, and it covers only the written runs, so 256 MiB of zeros is neither read
 * nor hashed. A CRC detects damage, not tampering; a snapshot is trusted as much as its directory.
 *
 * <p>Migration: the manifest's records are independent of the files. A migration stream can carry
 * the same objects as frames — the {@link GuestDefinition} and {@link HostFacts} first (the
 * destination runs {@link RestoreCheck} before it builds anything), then memory as (page, count,
 * bytes) runs in any number of dirty-page rounds, then the {@link PartState}s in restore order,
 * each frame with its own CRC32C — and the destination applies them through the same restore path.
 */
public final class SnapshotFormat {
    public static final String NAME = "jvmm-snapshot";
    public static final int VERSION = 1;
    public static final String MANIFEST = "snapshot.json";
    public static final String MEMORY = "memory.bin";
    public static final int PAGE_SIZE = 4096;

    /** The largest manifest a restore reads: ample for vCPU registers, never a memory hog. */
    public static final long MAX_MANIFEST_BYTES = 64L << 20;

    static final String CHECK_PLACEHOLDER = "00000000";

    /** What precedes the check's value at the manifest's end: {@code ,"check":"}. */
    private static final byte[] CHECK_FIELD = ",\"check\":\"".getBytes(StandardCharsets.US_ASCII);

    private static final int HEX_DIGITS = CHECK_PLACEHOLDER.length();
    private static final byte[] PLACEHOLDER_BYTES =
            CHECK_PLACEHOLDER.getBytes(StandardCharsets.US_ASCII);

    private SnapshotFormat() {}

    /** The manifest's text: {@code json} (an object) with the check field appended. */
    static String withCheck(String json) {
        if (!json.endsWith("}")) throw new IllegalArgumentException("not a JSON object");
        String body = json.substring(0, json.length() - 1);
        String placeholder = body + ",\"check\":\"" + CHECK_PLACEHOLDER + "\"}\n";
        return body + ",\"check\":\"" + crc(placeholder) + "\"}\n";
    }

    /**
     * Whether {@code text} ends with a check field that matches the rest of it.
     *
     * @return null when it does, else what is wrong
     */
    static String checkProblem(String text) {
        return checkProblem(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * {@link #checkProblem(String)} on the file's bytes as read (UTF-8): the check field is ASCII,
     * so its value is found at a fixed place from the end and the CRC32C runs over the bytes with
     * the placeholder in its place, without copying the text.
     */
    static String checkProblem(byte[] text) {
        int end = text.length;
        if (end > 0 && text[end - 1] == '\n') end--;
        int value = end - 2 - HEX_DIGITS; // the 8 hex digits, then "}
        int field = value - CHECK_FIELD.length;
        if (field < 0
                || !Arrays.equals(text, field, value, CHECK_FIELD, 0, CHECK_FIELD.length)
                || !lowerHex(text, value, value + HEX_DIGITS)
                || text[end - 2] != '"'
                || text[end - 1] != '}')
            return "no content check at its end (truncated or not written by jvmm)";
        CRC32C c = new CRC32C();
        c.update(text, 0, value);
        c.update(PLACEHOLDER_BYTES);
        c.update(text, value + HEX_DIGITS, text.length - value - HEX_DIGITS);
        byte[] want = hex(c.getValue()).getBytes(StandardCharsets.US_ASCII);
        if (!Arrays.equals(text, value, value + HEX_DIGITS, want, 0, HEX_DIGITS))
            return "content check failed (the file is damaged or was edited)";
        return null;
    }

    private static boolean lowerHex(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            boolean digit = b[i] >= '0' && b[i] <= '9', letter = b[i] >= 'a' && b[i] <= 'f';
            if (!digit && !letter) return false;
        }
        return true;
    }

    private static String crc(String text) {
        CRC32C c = new CRC32C();
        c.update(text.getBytes(StandardCharsets.UTF_8));
        return hex(c.getValue());
    }

    static String hex(long crc) {
        return HexFormat.of().toHexDigits((int) crc);
    }
}
