package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.net.MacAddress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DiskConfig, NetConfig and VirtioConfig: each refusal names the file, tap or address. */
class VirtioConfigTest {
    @TempDir Path dir;

    private Path file(String name) throws IOException {
        return Files.write(dir.resolve(name), new byte[4096]);
    }

    private static String refusal(Runnable r) {
        var e = assertThrows(dev.jvmm.core.JvmmException.class, r::run);
        assertEquals(dev.jvmm.core.JvmmException.Kind.USAGE, e.errorKind());
        return e.getMessage();
    }

    @Test
    void diskChecksTheFile() throws Exception {
        Path ok = file("ok.img");
        assertEquals(new DiskConfig(ok, false), new DiskConfig(ok, false));
        Path missing = dir.resolve("missing.img");
        assertEquals(
                "disk " + missing + ": no such file", refusal(() -> new DiskConfig(missing, true)));
        assertEquals(
                "disk " + dir + ": is a directory, not a disk image",
                refusal(() -> new DiskConfig(dir, true)));
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        assertEquals(
                "disk " + fifo + ": not a regular file (block devices are not supported)",
                refusal(() -> new DiskConfig(fifo, true)));
    }

    /**
     * Root passes every permission check, so as root the image is made immutable (chattr +i), which
     * denies writes to root too; the unreadable case needs a non-root user and is checked only
     * then.
     */
    @Test
    void readOnlyImageNeedsRoOn() throws Exception {
        Path ro = file("ro.img");
        boolean root =
                "0"
                        .equals(
                                new String(
                                                new ProcessBuilder("id", "-u")
                                                        .start()
                                                        .getInputStream()
                                                        .readAllBytes(),
                                                StandardCharsets.UTF_8)
                                        .strip());
        if (root) {
            assertEquals(
                    0,
                    new ProcessBuilder("chattr", "+i", ro.toString()).inheritIO().start().waitFor(),
                    "chattr +i " + ro);
        } else {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r--r--r--"));
        }
        try {
            assertEquals(
                    "disk " + ro + ": not writable; attach it read-only with ro=on",
                    refusal(() -> new DiskConfig(ro, false)));
            assertTrue(new DiskConfig(ro, true).readOnly());
        } finally {
            if (root)
                new ProcessBuilder("chattr", "-i", ro.toString()).inheritIO().start().waitFor();
        }
        if (!root) {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("---------"));
            assertEquals(
                    "disk " + ro + ": not readable (permission denied)",
                    refusal(() -> new DiskConfig(ro, true)));
        }
    }

    @Test
    void netChecksTheTapNameAndDerivesTheMac() {
        NetConfig n = NetConfig.withDerivedMac("tap0");
        assertEquals(MacAddress.derived("tap0"), n.mac());
        assertEquals(
                "tap 'a/b': interface names cannot contain '/'",
                refusal(() -> NetConfig.withDerivedMac("a/b")));
        assertEquals(
                "tap 'much-too-long-name': interface names have at most 15 characters",
                refusal(
                        () ->
                                new NetConfig(
                                        "much-too-long-name",
                                        MacAddress.parse("52:54:00:00:00:01"))));
    }

    @Test
    void anImageCannotBeAttachedTwiceEvenThroughASymlink() throws IOException {
        Path img = file("a.img"), other = file("b.img");
        Path link = Files.createSymbolicLink(dir.resolve("link.img"), img);
        String same =
                " are the same file; each of kernel, initrd, disks, serial file, --dump-dtb and --api-socket needs its own";
        assertEquals(
                "--disk " + img + " and --disk " + img + same,
                refusal(() -> disks(new DiskConfig(img, false), new DiskConfig(img, false))));
        assertEquals(
                "--disk " + img + " and --disk " + link + same,
                refusal(() -> disks(new DiskConfig(img, true), new DiskConfig(link, true))));
        Path hard = Files.createLink(dir.resolve("hard.img"), img);
        assertEquals(
                "--disk " + hard + " and --disk " + img + same,
                refusal(() -> disks(new DiskConfig(hard, true), new DiskConfig(img, true))));
        assertEquals(
                2, disks(new DiskConfig(img, true), new DiskConfig(other, false)).deviceCount());
    }

    @Test
    void tapsAndMacsAreUnique() {
        MacAddress m = MacAddress.parse("52:54:00:00:00:01");
        assertEquals(
                "tap t0 is given twice; a tap carries one NIC",
                refusal(() -> nets(NetConfig.withDerivedMac("t0"), new NetConfig("t0", m))));
        assertEquals(
                "MAC address 52:54:00:00:00:01 is used by the NICs on taps t0 and t1",
                refusal(() -> nets(new NetConfig("t0", m), new NetConfig("t1", m))));
        assertEquals(
                2,
                nets(NetConfig.withDerivedMac("t0"), NetConfig.withDerivedMac("t1")).deviceCount());
    }

    @Test
    void deviceCountIsBoundedByTheInterruptLines() throws IOException {
        List<DiskConfig> many = new ArrayList<>();
        for (int i = 0; i < Layout.MAX_VIRTIO_DEVICES - 2; i++)
            many.add(new DiskConfig(file("d" + i + ".img"), true));
        assertEquals(
                Layout.MAX_VIRTIO_DEVICES,
                new VirtioConfig(many, List.of(), true, true).deviceCount());
        assertEquals(
                (Layout.MAX_VIRTIO_DEVICES + 1)
                        + " virtio devices: at most "
                        + Layout.MAX_VIRTIO_DEVICES
                        + " fit the interrupt lines",
                refusal(
                        () ->
                                new VirtioConfig(
                                        many,
                                        List.of(NetConfig.withDerivedMac("t0")),
                                        true,
                                        true)));
        assertEquals(0, VirtioConfig.NONE.deviceCount());
    }

    private static VirtioConfig disks(DiskConfig... d) {
        return new VirtioConfig(List.of(d), List.of(), false, false);
    }

    private static VirtioConfig nets(NetConfig... n) {
        return new VirtioConfig(List.of(), List.of(n), false, false);
    }
}
