package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.guestCommand;
import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.testing.BootTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-blk (and, in the same boot, virtio-rng) under the stock Debian kernel, checked from the
 * host side of the image files. Two boots share one image: the first makes an ext2 file system with
 * a file of known content and writes the same kind of known bytes raw at a fixed offset, next to a
 * read-only disk it must not change; the second mounts the file system again, checks the file,
 * writes raw bytes, syncs, and is killed with SIGKILL: what the guest synced must be in the image.
 */
@BootTest
class VirtioDiskBootTest {
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(3);
    private static final long MIB = 1 << 20;

    /**
     * The file system covers the first 4 MiB (busybox mke2fs counts 1 KiB units); raw writes go
     * above it.
     */
    private static final long RAW_A = 6 * MIB, RAW_B = 7 * MIB;

    private static final String MODULES = "jvmm.modules=virtio_mmio,virtio_blk,virtio_rng,ext4";

    @TempDir Path dir;

    /** What busybox {@code seq FIRST LAST} prints. */
    private static byte[] seq(int first, int last) {
        StringBuilder s = new StringBuilder();
        for (int i = first; i <= last; i++) s.append(i).append('\n');
        return s.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] slice(Path file, long offset, int len) throws IOException {
        byte[] all = Files.readAllBytes(file);
        return Arrays.copyOfRange(all, (int) offset, (int) offset + len);
    }

    /**
     * The host reads the guest's file out of the image without an ext2 parser: every 4 KiB block of
     * the content (the last one zero-padded, as ext2 leaves a fresh image) must be one of the file
     * system's 4 KiB blocks. Only the file system's area is searched, so the raw copy at 6 MiB
     * cannot stand in.
     */
    private static void assertFileBlocksInImage(Path image, byte[] content, long fsBytes)
            throws IOException {
        byte[] img = Files.readAllBytes(image);
        Set<ByteBuffer> fsBlocks = new HashSet<>();
        for (int off = 0; off + 4096 <= Math.min(fsBytes, img.length); off += 4096) {
            fsBlocks.add(ByteBuffer.wrap(img, off, 4096).slice());
        }
        List<Integer> missing = new ArrayList<>();
        for (int off = 0; off < content.length; off += 4096) {
            if (!fsBlocks.contains(ByteBuffer.wrap(Arrays.copyOfRange(content, off, off + 4096))))
                missing.add(off / 4096);
        }
        assertEquals(
                List.of(),
                missing,
                "blocks of the guest's file not found in the image's file system area");
    }

    private static String[] run(String shell, String... disks) {
        String[] base = {
            "run",
            "-k",
            image("Image"),
            "-i",
            image("initramfs.gz"),
            "-m",
            "256",
            "-p",
            "quiet " + MODULES + " " + guestCommand(shell)
        };
        String[] all = Arrays.copyOf(base, base.length + disks.length);
        System.arraycopy(disks, 0, all, base.length, disks.length);
        return all;
    }

    @Test
    void guestWritesReachTheImageSurviveKill9AndReadOnlyDisksStayUnchanged() throws Exception {
        Path rw = Files.write(dir.resolve("rw.img"), new byte[(int) (8 * MIB)]);
        byte[] roContent = new byte[(int) MIB];
        new Random(5).nextBytes(roContent);
        Path ro = Files.write(dir.resolve("ro.img"), roContent);
        FileTime roTime = Files.getLastModifiedTime(ro);
        byte[] fileData = seq(1, 150000), rawA = seq(1, 150000), rawB = seq(200000, 300000);

        // ---- boot 1: mkfs, a file, raw bytes; the read-only disk refuses a write
        // -------------------
        String first =
                String.join(
                        "\n",
                        "mkdir -p /mnt",
                        "mke2fs -q -F -b 4096 /dev/vda 4096 && mount -t ext2 /dev/vda /mnt && seq 1 150000 > /mnt/data.txt"
                                + " && sha256sum /mnt/data.txt && umount /mnt && echo FS-WRITTEN",
                        "seq 1 150000 | dd of=/dev/vda bs=4096 seek="
                                + RAW_A / 4096
                                + " conv=fsync 2>/dev/null && echo RAW-WRITTEN",
                        "echo SERIAL=$(cat /sys/block/vda/serial) RO=$(cat /sys/block/vdb/ro)",
                        "dd if=/dev/zero of=/dev/vdb bs=4096 count=1 conv=fsync; echo RO-WRITE-RC=$?",
                        "sha256sum /dev/vdb",
                        // the same boot reads 1 MiB of virtio-rng entropy; random bytes do not
                        // compress
                        "head -c 1048576 /dev/hwrng > /tmp/r; echo HWRNG=$(cat /sys/class/misc/hw_random/rng_current)"
                                + " BYTES=$(wc -c < /tmp/r) GZIPPED=$(gzip -c /tmp/r | wc -c)",
                        "sync");
        JvmmProcess.Result r =
                JvmmProcess.run(
                        BOOT_LIMIT,
                        run(
                                first,
                                "--disk",
                                "path=" + rw,
                                "--disk",
                                "path=" + ro + ",ro=on",
                                "--rng"));
        assertEquals(0, r.code(), r.describe());
        assertTrue(
                r.out().contains(sha256(fileData) + "  /mnt/data.txt"),
                "guest's checksum of its file\n" + r.describe());
        assertTrue(r.out().contains("FS-WRITTEN") && r.out().contains("RAW-WRITTEN"), r.describe());
        assertTrue(
                r.out().contains("SERIAL=rw.img RO=1"),
                "GET_ID and the read-only flag\n" + r.describe());
        assertTrue(
                r.out().lines().anyMatch(l -> l.matches("RO-WRITE-RC=[1-9][0-9]*\\r?")),
                "write to ro disk must fail\n" + r.describe());
        assertTrue(
                r.out().contains(sha256(roContent) + "  /dev/vdb"),
                "guest reads the ro disk's bytes\n" + r.describe());
        assertTrue(
                r.out().contains("HWRNG=virtio_rng.0 BYTES=1048576 GZIPPED="),
                "1 MiB from /dev/hwrng\n" + r.describe());
        long gzipped = Long.parseLong(r.out().replaceAll("(?s).*GZIPPED=(\\d+).*", "$1"));
        assertTrue(gzipped > 1048576, "entropy compressed to " + gzipped + " bytes: not random");
        assertTrue(r.out().contains("JVMM-CMD-EXIT=0"), r.describe());
        assertArrayEquals(
                rawA,
                slice(rw, RAW_A, rawA.length),
                "raw bytes the guest wrote at 6 MiB, read on the host");
        assertFileBlocksInImage(rw, fileData, 4 * MIB);
        assertArrayEquals(roContent, Files.readAllBytes(ro), "read-only image changed");
        assertEquals(roTime, Files.getLastModifiedTime(ro), "read-only image was written to");

        // ---- boot 2: the file system mounts again; synced raw bytes survive SIGKILL
        // -----------------
        String second =
                String.join(
                        "\n",
                        "mkdir -p /mnt",
                        "mount -t ext2 /dev/vda /mnt && sha256sum /mnt/data.txt",
                        "seq 200000 300000 | dd of=/dev/vda bs=4096 seek="
                                + RAW_B / 4096
                                + " 2>/dev/null",
                        "sync",
                        "echo SYNCED-NOW",
                        "sleep 600");
        try (JvmmProcess p = JvmmProcess.start(run(second, "--disk", "path=" + rw))) {
            boolean synced = p.awaitStdout("SYNCED-NOW", BOOT_LIMIT);
            assertTrue(
                    synced,
                    "guest never reported its sync\n"
                            + p.stdout()
                            + "\n--- stderr ---\n"
                            + p.stderr());
            p.signal("KILL");
            JvmmProcess.Result killed = p.waitFor(Duration.ofSeconds(30));
            assertEquals(137, killed.code(), killed.describe());
            assertTrue(
                    killed.out().contains(sha256(fileData) + "  /mnt/data.txt"),
                    "file system mounted again, file intact\n" + killed.describe());
            assertFalse(killed.out().contains("JVMM-CMD-EXIT"), killed.describe());
        }
        assertArrayEquals(
                rawB,
                slice(rw, RAW_B, rawB.length),
                "bytes synced before kill -9 are in the image");
        assertArrayEquals(
                rawA, slice(rw, RAW_A, rawA.length), "the first boot's bytes are still there");
    }

    /**
     * --on-reset reboot with devices: the first boot writes a marker to the disk and resets; the
     * devices are reset with the VM, and the second kernel in the same process probes them afresh,
     * reads the marker back and gets entropy again.
     */
    @Test
    void devicesWorkAgainAfterAnInPlaceReboot() throws IOException {
        Path disk = Files.write(dir.resolve("reboot.img"), new byte[(int) MIB]);
        String shell =
                "if [ \"$(head -c 12 /dev/vda)\" = JVMM-REBOOT1 ]; then"
                        + " echo SECOND-BOOT-SAW-MARKER HWRNG=$(head -c 4096 /dev/hwrng | wc -c);"
                        + " else printf JVMM-REBOOT1 | dd of=/dev/vda conv=fsync 2>/dev/null; echo FIRST-BOOT-WROTE-MARKER; reboot -f; fi";
        JvmmProcess.Result r =
                JvmmProcess.run(
                        BOOT_LIMIT,
                        run(
                                shell,
                                "--disk",
                                "path=" + disk,
                                "--rng",
                                "--on-reset",
                                "reboot",
                                "--timeout",
                                "150s"));
        assertEquals(0, r.code(), r.describe());
        assertEquals(
                2, r.out().lines().filter(l -> l.contains("JVMM-BOOT-OK")).count(), r.describe());
        int first = r.out().indexOf("FIRST-BOOT-WROTE-MARKER"),
                second = r.out().indexOf("SECOND-BOOT-SAW-MARKER HWRNG=4096");
        assertTrue(first >= 0 && second > first, r.describe());
        assertArrayEquals("JVMM-REBOOT1".getBytes(StandardCharsets.US_ASCII), slice(disk, 0, 12));
    }
}
