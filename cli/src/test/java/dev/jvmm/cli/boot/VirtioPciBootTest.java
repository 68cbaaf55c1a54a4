package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.guestCommand;
import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.net.MacAddress;
import dev.jvmm.kvm.testing.BootTest;
import dev.jvmm.kvm.testing.TapHost;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * virtio-pci under the stock Debian kernel, which has VIRTIO_PCI and PCI_HOST_GENERIC built in. One
 * boot per interrupt controller with {@code --virtio-transport pci} and all four device kinds: the
 * guest enumerates the ECAM host bridge and finds them as modern virtio functions at
 * 00:00.0-00:03.0 without virtio_mmio; everything it prints comes through hvc0, it sees the disk as
 * /dev/vda and its write is in the image on the host, it pings the host over the tap, and it reads
 * the entropy device. With gicv3-its the functions interrupt through MSI-X vectors translated by
 * the ITS (the disk's queue vector counts its I/O in /proc/interrupts); with plain gicv3 there is
 * no MSI-X and the same devices work over INTx.
 */
@BootTest
class VirtioPciBootTest {
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(3);
    private static final long MIB = 1 << 20;
    private static final byte[] MARKER = "JVMM-PCI-WROTE-THIS".getBytes(StandardCharsets.US_ASCII);
    private static final String TAP = "jvmmtap5", HOST_IP = "10.77.5.1", GUEST_IP = "10.77.5.2";

    /** A /proc/interrupts line: number, per-CPU counts, then the chip and the name. */
    private static final Pattern IRQ_LINE = Pattern.compile("^\\s*\\d+:((?:\\s+\\d+)+)\\s+(.*)$");

    @TempDir Path dir;

    @AfterEach
    void removeTap() throws Exception {
        TapHost.remove(TAP);
    }

    @Test
    void withAnItsTheDevicesInterruptThroughMsixVectors() throws Exception {
        String out = boot("gicv3-its");
        long disk = interrupts(out, l -> l.contains("virtio0-req"));
        assertTrue(disk > 0, "the disk's queue vector counted its I/O\n" + out);
        assertTrue(
                out.lines().anyMatch(l -> l.contains("virtio0-req") && l.contains("ITS")),
                "the disk's vector is an ITS MSI\n" + out);
        assertTrue(
                out.lines().anyMatch(l -> l.contains("virtio0-config")),
                "a vector for configuration changes\n" + out);
        assertTrue(
                interrupts(out, l -> l.contains("virtio1-input")) > 0,
                "the NIC's rx vector\n" + out);
        assertFalse(
                out.lines().anyMatch(l -> l.contains("GICv3") && l.matches(".*virtio\\d+\\s*$")),
                "no INTx line is in use\n" + out);
    }

    @Test
    void withPlainGicv3TheDevicesInterruptOverIntx() throws Exception {
        String out = boot("gicv3");
        assertTrue(
                interrupts(out, l -> l.contains("GICv3") && l.matches(".*virtio0\\s*$")) > 0,
                "the disk's INTx line counted its I/O\n" + out);
        assertEquals(0, interrupts(out, l -> l.contains("ITS")), "no ITS, so no MSI\n" + out);
        assertFalse(
                out.lines().anyMatch(l -> IRQ_LINE.matcher(l).matches() && l.contains("ITS")),
                "no ITS interrupt at all\n" + out);
    }

    /** The sum of the per-CPU counts of the /proc/interrupts lines {@code which} selects. */
    private static long interrupts(String out, java.util.function.Predicate<String> which) {
        long sum = 0;
        for (String l : out.lines().toList()) {
            Matcher m = IRQ_LINE.matcher(l);
            if (!m.matches() || !which.test(m.group(2))) continue;
            Matcher n = Pattern.compile("\\d+").matcher(m.group(1));
            while (n.find()) sum += Long.parseLong(n.group());
        }
        return sum;
    }

    /** One boot with every device kind over PCI; the common assertions; the guest's output. */
    private String boot(String irqchip) throws Exception {
        TapHost.create(TAP, HOST_IP);
        Path disk = Files.write(dir.resolve("pci.img"), new byte[(int) (4 * MIB)]);
        String shell =
                """
                for d in /sys/bus/pci/devices/*; do echo PCI=${d##*/}:$(cat $d/vendor):$(cat $d/device); done
                echo VDA=$(readlink -f /sys/block/vda/device)
                echo CONSOLE=$(cat /sys/class/tty/console/active) MAC=$(cat /sys/class/net/eth0/address)
                printf JVMM-PCI-WROTE-THIS | dd of=/dev/vda bs=4096 seek=256 conv=fsync 2>/dev/null && echo WRITTEN
                echo HWRNG=$(cat /sys/class/misc/hw_random/rng_current) BYTES=$(head -c 65536 /dev/hwrng | wc -c)
                ip link set eth0 up && ip addr add %s/24 dev eth0
                ping -c 3 -W 5 %s >/dev/null; echo GUEST-PING-RC=$?
                grep -q '^virtio_mmio ' /proc/modules && echo MMIO-LOADED
                echo IRQS-BEGIN; cat /proc/interrupts; echo IRQS-END
                """
                        .formatted(GUEST_IP, HOST_IP);
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
                        "--irqchip",
                        irqchip,
                        "--disk",
                        "path=" + disk,
                        "--net",
                        "tap=" + TAP,
                        "--rng",
                        "--console",
                        "virtio",
                        "-p",
                        "quiet jvmm.modules=virtio_blk,virtio_net,virtio_rng "
                                + guestCommand(shell));
        assertEquals(0, r.code(), r.describe());
        String out = r.out();
        assertTrue(out.contains("JVMM-BOOT-OK"), "output through hvc0\n" + r.describe());
        assertTrue(out.contains("PCI=0000:00:00.0:0x1af4:0x1042"), "the disk\n" + r.describe());
        assertTrue(out.contains("PCI=0000:00:01.0:0x1af4:0x1041"), "the NIC\n" + r.describe());
        assertTrue(out.contains("PCI=0000:00:02.0:0x1af4:0x1044"), "entropy\n" + r.describe());
        assertTrue(out.contains("PCI=0000:00:03.0:0x1af4:0x1043"), "console\n" + r.describe());
        assertTrue(
                out.lines().anyMatch(l -> l.contains("/pci0000:00/0000:00:00.0/virtio")),
                "vda is a virtio device behind PCI\n" + r.describe());
        assertTrue(
                out.contains("CONSOLE=hvc0 MAC=" + MacAddress.derived(TAP)),
                "hvc0 is the console\n" + r.describe());
        assertTrue(out.contains("WRITTEN"), r.describe());
        assertTrue(
                out.contains("HWRNG=virtio_rng.0 BYTES=65536"),
                "64 KiB from /dev/hwrng\n" + r.describe());
        assertTrue(out.contains("GUEST-PING-RC=0"), "guest -> host ping\n" + r.describe());
        assertFalse(out.contains("MMIO-LOADED"), "virtio_mmio was not needed\n" + r.describe());
        assertTrue(out.contains("JVMM-CMD-EXIT=0"), r.describe());
        assertFalse(r.err().contains("Exception"), r.describe());
        byte[] img = Files.readAllBytes(disk);
        assertArrayEquals(
                MARKER,
                Arrays.copyOfRange(img, 256 * 4096, 256 * 4096 + MARKER.length),
                "the guest's write at 1 MiB, read on the host");
        return out;
    }
}
