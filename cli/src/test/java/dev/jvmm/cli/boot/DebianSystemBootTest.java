package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.guestCommand;
import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.testing.BootTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Debian system (guest-images/debian: trixie with systemd and udev on an ext4 root, Debian's
 * own initrd for the stock kernel) boots from its own virtio-pci disk under jvmm (the same image
 * under the QEMU peer is bench/debian-bench's business: it boots both, and kept here it cost the
 * boot tier ~100 s of CI's 45-minute budget). The image's jvmm-boot.service prints JVMM-SYSTEM-OK
 * once multi-user.target is reached, runs the jvmm.cmd= command once the boot has finished, prints
 * JVMM-CMD-EXIT and powers the system off. The command reports the guest's date (from the PL031
 * RTC), systemd's state and any failed unit, the command line and the root mount.
 */
@BootTest
class DebianSystemBootTest {
    /** systemd in L2 under L1's TCG: ~1-2 min to multi-user.target (see guest-images/README). */
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(6);

    private static final String REPORT =
            """
            echo GUEST-EPOCH=$(date +%s)
            echo SYSTEM-STATE=$(systemctl is-system-running)
            systemctl list-units --failed --no-legend --plain | sed 's/^/FAILED-UNIT /'
            echo CMDLINE=$(cat /proc/cmdline)
            echo ROOT=$(findmnt -n -o SOURCE,FSTYPE /)
            echo MODULES=$(cut -d' ' -f1 /proc/modules | sort | tr '\\n' ,)
            """;

    @TempDir Path dir;

    @Test
    void bootsToMultiUserUnderJvmmRunsTheCommandAndPowersOff() throws Exception {
        Path disk = copyOfRoot();
        long before = System.currentTimeMillis() / 1000;
        JvmmProcess.Result r =
                JvmmProcess.run(
                        BOOT_LIMIT,
                        "run",
                        "-k",
                        image("Image"),
                        "-i",
                        image("debian-initrd.img"),
                        "--disk",
                        "path=" + disk,
                        "-c",
                        "2",
                        "-m",
                        "1024",
                        "--virtio-transport",
                        "pci",
                        "-p",
                        "root=/dev/vda rw console=ttyS0 " + guestCommand(REPORT));
        long after = System.currentTimeMillis() / 1000;
        System.out.println("jvmm: Debian system booted and powered off in " + r.elapsed());
        assertEquals(0, r.code(), "jvmm exits 0 after the guest's poweroff\n" + r.describe());
        assertSystem(r.out(), r.describe(), before, after);
        assertTrue(
                r.out().contains("ROOT=/dev/vda ext4"),
                "the root is the virtio-pci disk\n" + r.describe());
        assertFalse(r.err().contains("Exception"), r.describe());
    }

    /** What the system must show: the markers, the host's date, a running system, the command. */
    private static void assertSystem(String out, String describe, long before, long after) {
        assertTrue(out.contains("JVMM-SYSTEM-OK"), "multi-user.target reached\n" + describe);
        assertTrue(out.contains("JVMM-CMD-EXIT=0"), "the command ran\n" + describe);
        long guest = field(out, "GUEST-EPOCH", describe);
        assertTrue(
                guest >= before - 60 && guest <= after + 60,
                "guest date "
                        + guest
                        + " not within 60 s of the host's ["
                        + before
                        + ", "
                        + after
                        + "]\n"
                        + describe);
        // "running": no unit failed; anything else lists the failed units (FAILED-UNIT lines)
        assertTrue(out.contains("SYSTEM-STATE=running"), "systemd's state\n" + describe);
        assertFalse(out.contains("FAILED-UNIT "), "no failed unit\n" + describe);
        assertTrue(
                out.contains("CMDLINE=") && out.contains("root=/dev/vda rw"),
                "the command line\n" + describe);
    }

    private static long field(String out, String name, String describe) {
        Matcher m = Pattern.compile(name + "=(-?\\d+)").matcher(out);
        assertTrue(m.find(), name + " missing\n" + describe);
        return Long.parseLong(m.group(1));
    }

    /**
     * A private, sparse copy of debian-root.img: the guest writes to its root, and the original is
     * shared by every test and benchmark. Only the blocks holding data are written (a plain copy
     * would fill the temporary directory with the image's unused gigabyte).
     */
    private Path copyOfRoot() throws IOException {
        Path src = Path.of(image("debian-root.img"));
        Path dst = dir.resolve("debian-root.img");
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ);
                FileChannel out =
                        FileChannel.open(
                                dst, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long size = in.size(), pos = 0;
            while (pos < size) {
                buf.clear();
                int n = in.read(buf, pos);
                if (n < 0) break;
                buf.flip();
                if (!allZero(buf)) {
                    while (buf.hasRemaining()) out.write(buf, pos + buf.position());
                }
                pos += n;
            }
            out.truncate(size);
            if (out.size() < size) out.write(ByteBuffer.allocate(1), size - 1);
        }
        return dst;
    }

    private static boolean allZero(ByteBuffer b) {
        int i = b.position(), end = b.limit();
        for (; i + 8 <= end; i += 8) if (b.getLong(i) != 0) return false;
        for (; i < end; i++) if (b.get(i) != 0) return false;
        return true;
    }
}
