package dev.jvmm.core.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.device.DeviceException;
import dev.jvmm.kvm.testing.KvmTest;
import dev.jvmm.kvm.testing.TapHost;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The tap backend on a real tap in the lab's L1 (root, tun module loaded): creating and attaching,
 * a second attach refused with a one-line reason, frames both ways, and close() ending a blocked
 * read. Tagged like the KVM tier because it needs the lab; it uses no /dev/kvm.
 */
@KvmTest
class TapNetBackendLabTest {
    private static final String TAP = "jvmmt0";

    private static void sh(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), String.join(" ", cmd) + " hung");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    }

    private static long rxPackets() throws IOException {
        return Long.parseLong(
                Files.readString(Path.of("/sys/class/net/" + TAP + "/statistics/rx_packets"))
                        .strip());
    }

    @Test
    void attachesRefusesASecondAttachAndExchangesFrames() throws Exception {
        TapHost.require();
        TapNetBackend tap = TapNetBackend.open(TAP);
        try {
            assertTrue(Files.isDirectory(Path.of("/sys/class/net/" + TAP)), "the tap was created");
            DeviceException busy =
                    assertThrows(DeviceException.class, () -> TapNetBackend.open(TAP));
            assertEquals(
                    "tap jvmmt0: TUNSETIFF(jvmmt0): EBUSY (another process has it attached)",
                    busy.getMessage());

            sh("ip", "addr", "add", "10.99.0.1/24", "dev", TAP);
            sh("ip", "link", "set", TAP, "up");

            // guest -> host: a broadcast frame written to the tap is received by the interface
            long before = rxPackets();
            byte[] frame = new byte[60];
            for (int i = 0; i < 6; i++) frame[i] = (byte) 0xff;
            frame[6] = 0x02;
            frame[12] =
                    (byte) 0x88; // ethertype 0x88b5, IEEE local experimental: the stack ignores it
            frame[13] = (byte) 0xb5;
            tap.write(frame, 0, frame.length);
            assertEquals(before + 1, rxPackets());

            // host -> guest: the host's ARP request for a neighbour on the tap's subnet is read as
            // one frame
            Process ping =
                    new ProcessBuilder("ping", "-c", "1", "-W", "1", "10.99.0.2")
                            .redirectErrorStream(true)
                            .start();
            byte[] buf = new byte[2048];
            int n;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            do { // skip IPv6 housekeeping the kernel may send first
                n = tap.read(buf, 0, buf.length);
            } while (n > 0
                    && !(buf[12] == 0x08 && buf[13] == 0x06)
                    && System.nanoTime() < deadline);
            ping.waitFor(5, TimeUnit.SECONDS);
            assertTrue(n >= 42, "ARP frame length " + n);
            assertEquals(0x0806, (buf[12] & 0xff) << 8 | (buf[13] & 0xff), "ethertype ARP");
            assertEquals(
                    "10.99.0.2",
                    (buf[38] & 0xff)
                            + "."
                            + (buf[39] & 0xff)
                            + "."
                            + (buf[40] & 0xff)
                            + "."
                            + (buf[41] & 0xff),
                    "target protocol address");

        } finally {
            tap.close();
        }
        assertFalse(
                Files.exists(Path.of("/sys/class/net/" + TAP)),
                "a tap jvmm created goes away with it");
    }

    @Test
    void closeEndsAReadBlockedOnAQuietTap() throws Exception {
        TapHost.require();
        TapNetBackend quiet = TapNetBackend.open("jvmmt1"); // never up, so no frame can arrive
        byte[] buf = new byte[2048];
        try {
            CompletableFuture<Integer> reader =
                    CompletableFuture.supplyAsync(
                            () -> {
                                try {
                                    return quiet.read(buf, 0, buf.length);
                                } catch (IOException e) {
                                    throw new RuntimeException(e);
                                }
                            });
            Thread.sleep(300);
            assertFalse(reader.isDone(), "read must block while no frame arrives");
            quiet.close();
            assertEquals(-1, reader.get(2, TimeUnit.SECONDS));
            assertEquals(-1, quiet.read(buf, 0, buf.length), "reads after close");
            IOException e = assertThrows(IOException.class, () -> quiet.write(buf, 0, 60));
            assertEquals("tap jvmmt1 is closed", e.getMessage());
        } finally {
            quiet.close();
        }
    }
}
