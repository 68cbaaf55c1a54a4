package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.guestCommand;
import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.net.MacAddress;
import dev.jvmm.kvm.testing.BootTest;
import dev.jvmm.kvm.testing.TapHost;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One boot with {@code --console virtio --net tap=...}: everything the guest prints reaches stdout
 * through hvc0 (the UART is not connected), the guest and the host ping each other over the tap,
 * and a line typed on jvmm's stdin reaches the guest's shell through hvc0. The host side is a
 * persistent tap made with busybox tunctl, as a user would prepare one. On virtio-mmio: PCI, the
 * default, has VirtioPciBootTest and the tests that take the default; this keeps mmio's net and
 * console (hvc0 only once virtio_mmio is loaded) covered.
 */
@BootTest
class VirtioNetConsoleBootTest {
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(3);
    private static final String TAP = "jvmmtap1", HOST_IP = "10.77.0.1", GUEST_IP = "10.77.0.2";

    @AfterEach
    void removeTap() throws Exception {
        TapHost.remove(TAP);
    }

    @Test
    void hvc0CarriesTheConsoleBothWaysAndTheTapCarriesPingsBothWays() throws Exception {
        TapHost.create(TAP, HOST_IP);

        String guest =
                String.join(
                        "\n",
                        "echo CONSOLE=$(cat /sys/class/tty/console/active) MAC=$(cat /sys/class/net/eth0/address)",
                        "ip link set eth0 up && ip addr add " + GUEST_IP + "/24 dev eth0",
                        "ping -c 3 -W 5 " + HOST_IP + " >/dev/null; echo GUEST-PING-RC=$?",
                        "echo NET-READY",
                        "read line; echo GOT=$line");
        String[] args = {
            "run",
            "-k",
            image("Image"),
            "-i",
            image("initramfs.gz"),
            "-m",
            "256",
            "--console",
            "virtio",
            "--net",
            "tap=" + TAP,
            "--virtio-transport",
            "mmio",
            "-p",
            "quiet jvmm.modules=virtio_mmio,virtio_net " + guestCommand(guest)
        };
        try (JvmmProcess p = JvmmProcess.start(true, args)) {
            assertTrue(
                    p.awaitStdout("NET-READY", BOOT_LIMIT),
                    "guest never got its network up\n" + p.stdout() + "\n" + p.stderr());
            int hostPing = TapHost.run("ping", "-c", "3", "-W", "5", GUEST_IP);
            p.input("hello-hvc\n");
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(60));
            assertEquals(0, r.code(), r.describe());
            assertTrue(
                    r.out().contains("JVMM-BOOT-OK"), "boot marker through hvc0\n" + r.describe());
            assertTrue(
                    r.out().contains("CONSOLE=hvc0 MAC=" + MacAddress.derived(TAP)), r.describe());
            assertTrue(r.out().contains("GUEST-PING-RC=0"), "guest -> host ping\n" + r.describe());
            assertEquals(0, hostPing, "host -> guest ping\n" + r.describe());
            assertTrue(
                    r.out().contains("GOT=hello-hvc"),
                    "stdin reached the guest's shell through hvc0\n" + r.describe());
            assertTrue(r.out().contains("JVMM-CMD-EXIT=0"), r.describe());
            assertFalse(r.err().contains("Exception"), r.describe());
        }
    }
}
