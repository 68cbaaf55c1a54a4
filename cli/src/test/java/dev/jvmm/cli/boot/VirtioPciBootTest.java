package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.guestCommand;
import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.testing.BootTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-pci under the stock Debian kernel, which has VIRTIO_PCI and PCI_HOST_GENERIC built in: in
 * one boot with {@code --virtio-transport pci} the guest enumerates the ECAM host bridge, finds the
 * disk and the entropy device as modern virtio functions (virtio_mmio is never loaded), sees the
 * disk as /dev/vda and writes to it, and the bytes are in the image on the host.
 */
@BootTest
class VirtioPciBootTest {
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(3);
    private static final long MIB = 1 << 20;
    private static final byte[] MARKER = "JVMM-PCI-WROTE-THIS".getBytes(StandardCharsets.US_ASCII);

    @TempDir Path dir;

    @Test
    void theGuestFindsDiskAndEntropyOnPciAndItsWritesReachTheImage() throws Exception {
        Path disk = Files.write(dir.resolve("pci.img"), new byte[(int) (4 * MIB)]);
        String shell =
                """
                for d in /sys/bus/pci/devices/*; do echo PCI=${d##*/}:$(cat $d/vendor):$(cat $d/device); done
                echo VDA=$(readlink -f /sys/block/vda/device)
                printf JVMM-PCI-WROTE-THIS | dd of=/dev/vda bs=4096 seek=256 conv=fsync 2>/dev/null && echo WRITTEN
                echo HWRNG=$(cat /sys/class/misc/hw_random/rng_current) BYTES=$(head -c 65536 /dev/hwrng | wc -c)
                grep -q '^virtio_mmio ' /proc/modules && echo MMIO-LOADED
                grep virtio /proc/interrupts
                """;
        JvmmProcess.Result r =
                JvmmProcess.run(
                        BOOT_LIMIT,
                        "run",
                        "-k",
                        image("Image"),
                        "-i",
                        image("initramfs.gz"),
                        "-m",
                        "256",
                        "--virtio-transport",
                        "pci",
                        "--disk",
                        "path=" + disk,
                        "--rng",
                        "-p",
                        "quiet jvmm.modules=virtio_blk,virtio_rng " + guestCommand(shell));
        assertEquals(0, r.code(), r.describe());
        String out = r.out();
        assertTrue(out.contains("PCI=0000:00:00.0:0x1af4:0x1042"), "the disk\n" + r.describe());
        assertTrue(
                out.contains("PCI=0000:00:01.0:0x1af4:0x1044"),
                "the entropy source\n" + r.describe());
        assertTrue(
                out.lines()
                        .anyMatch(
                                l ->
                                        l.startsWith(
                                                "VDA=/sys/devices/pci0000:00/0000:00:00.0/virtio")),
                "vda is a virtio device behind PCI\n" + r.describe());
        assertTrue(out.contains("WRITTEN"), r.describe());
        assertTrue(
                out.contains("HWRNG=virtio_rng.0 BYTES=65536"),
                "64 KiB from /dev/hwrng\n" + r.describe());
        assertFalse(out.contains("MMIO-LOADED"), "virtio_mmio was not needed\n" + r.describe());
        assertTrue(out.contains("JVMM-CMD-EXIT=0"), r.describe());
        byte[] img = Files.readAllBytes(disk);
        assertArrayEquals(
                MARKER,
                Arrays.copyOfRange(img, 256 * 4096, 256 * 4096 + MARKER.length),
                "the guest's write at 1 MiB, read on the host");
    }
}
