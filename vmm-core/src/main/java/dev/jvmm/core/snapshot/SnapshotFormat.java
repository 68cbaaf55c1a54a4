package dev.jvmm.core.snapshot;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    private static final Pattern CHECK =
            Pattern.compile(",\"check\":\"([0-9a-f]{8})\"}\\n?\\z", Pattern.DOTALL);

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
        Matcher m = CHECK.matcher(text);
        if (!m.find()) return "no content check at its end (truncated or not written by jvmm)";
        String placeholder =
                text.substring(0, m.start(1)) + CHECK_PLACEHOLDER + text.substring(m.end(1));
        String want = crc(placeholder);
        if (!want.equals(m.group(1)))
            return "content check failed (the file is damaged or was edited)";
        return null;
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
