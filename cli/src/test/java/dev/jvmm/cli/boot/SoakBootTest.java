package dev.jvmm.cli.boot;

import dev.jvmm.kvm.testing.BootTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Arrays;

import static dev.jvmm.cli.boot.JvmmProcess.guestCommand;
import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 11's soaks: jvmm's memory and descriptors stay flat (a) across 100 in-place reboots of a
 * bare-metal guest that resets at once, and (b) while a flood of console input passes through it to a
 * guest that reads it. "Flat" is at most 10 % RSS growth after a warm-up (the JIT compiles the hot
 * paths and the heap settles during the first cycles / megabytes) and no new file descriptor.
 */
@BootTest
class SoakBootTest {
    private static final double MAX_GROWTH = 0.10;
    private static final String RESET_MARK = "BAREMETAL-RESET";

    @Test
    void hundredRebootsInPlaceKeepRssAndDescriptorsFlat() throws Exception {
        try (JvmmProcess p = JvmmProcess.start("run", "-k", image("reset.img"), "-m", "64", "--on-reset", "reboot")) {
            long t0 = System.nanoTime();
            awaitBoots(p, 10);
            long rss10 = p.rssKib();
            int fds10 = p.openFds();
            awaitBoots(p, 100);
            long rss100 = p.rssKib();
            int fds100 = p.openFds();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            p.signal("TERM");
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(30));
            System.out.printf("reboot soak: boot 10: RSS %d KiB, %d fds; boot 100: RSS %d KiB, %d fds; %d ms for the"
                    + " 100 boots; exit %d%n", rss10, fds10, rss100, fds100, ms, r.code());
            assertEquals(143, r.code(), r.describe());
            assertEquals(fds10, fds100, "descriptors after boot 10 and boot 100");
            assertTrue(rss100 <= rss10 * (1 + MAX_GROWTH), "RSS grew from " + rss10 + " KiB (boot 10) to " + rss100
                    + " KiB (boot 100)");
            assertFalse(r.err().contains("did not stop"), r.describe());
        }
    }

    /** Megabytes of console input: the whole flood must pass through jvmm, not be dropped. */
    static final int INPUT_MIB = Integer.getInteger("jvmm.soak.inputMiB", 100);

    @Test
    void consoleInputFloodThroughVirtioConsoleKeepsRssFlat() throws Exception {
        long total = (long) INPUT_MIB << 20;
        // raw and without echo: every byte is read by head, none comes back out as console output
        String guest = "stty raw -echo; head -c " + total + " > /dev/null; echo; echo SOAK-INPUT-DONE";
        try (JvmmProcess p = JvmmProcess.start(true, "run", "-k", image("Image"), "-i", image("initramfs.gz"), "-m", "256",
                "--console", "virtio", "-p", "quiet jvmm.modules=virtio_mmio " + guestCommand(guest))) {
            if (!p.awaitStdout("JVMM-BOOT-OK", Duration.ofSeconds(180))) {
                fail("no boot\n--- stdout ---\n" + p.stdout() + "\n--- stderr ---\n" + p.stderr());
            }
            Thread.sleep(2000);   // let stty run before the first byte arrives
            byte[] chunk = new byte[64 * 1024];
            Arrays.fill(chunk, (byte) 'z');
            OutputStream in = p.stdin();
            long t0 = System.nanoTime();
            long warm = 0, sent = 0;
            long rssWarm = 0, rssMax = 0;
            while (sent < total) {
                int n = (int) Math.min(chunk.length, total - sent);
                in.write(chunk, 0, n);
                sent += n;
                if (warm == 0 && sent >= total / 10) {
                    warm = sent;
                    rssWarm = p.rssKib();
                } else if (warm != 0 && (sent & ((1 << 22) - 1)) == 0) {
                    rssMax = Math.max(rssMax, p.rssKib());
                }
            }
            in.flush();
            rssMax = Math.max(rssMax, p.rssKib());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            boolean done = p.awaitStdout("SOAK-INPUT-DONE", Duration.ofSeconds(120));
            long rssEnd = p.rssKib();
            in.close();
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(60));
            System.out.printf("input soak: %d MiB in %d ms (%.1f MiB/s); RSS after %d MiB %d KiB, max after %d KiB,"
                    + " at the end %d KiB; exit %d%n", INPUT_MIB, ms, INPUT_MIB * 1000.0 / Math.max(ms, 1), warm >> 20,
                    rssWarm, rssMax, rssEnd, r.code());
            assertTrue(done, "the guest did not read all " + total + " bytes\n" + r.describe());
            assertEquals(0, r.code(), r.describe());
            assertTrue(rssMax <= rssWarm * (1 + MAX_GROWTH), "RSS grew from " + rssWarm + " KiB to " + rssMax + " KiB");
        }
    }

    private static void awaitBoots(JvmmProcess p, int n) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
        while (count(p.stdout(), RESET_MARK) < n) {
            if (!p.process().isAlive()) fail("jvmm ended after " + count(p.stdout(), RESET_MARK) + " boots\n" + p.stderr());
            if (System.nanoTime() > deadline) fail("only " + count(p.stdout(), RESET_MARK) + " boots\n" + p.stderr());
            Thread.sleep(20);
        }
    }

    private static int count(String s, String needle) {
        int c = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) c++;
        return c;
    }
}
