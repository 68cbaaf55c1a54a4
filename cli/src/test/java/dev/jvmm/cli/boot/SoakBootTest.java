package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.guestCommand;
import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.kvm.testing.BootTest;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Issue 11's soaks: jvmm's memory and descriptors stay flat (a) across 100 in-place reboots of a
 * bare-metal guest that resets at once, and (b) while a flood of console input passes through it to
 * a guest that reads it. "Flat" is at most 10 % RSS growth after a warm-up (the JIT compiles the
 * hot paths and the heap settles during the first cycles / megabytes) and no new file descriptor.
 */
@BootTest
class SoakBootTest {
    private static final double MAX_GROWTH = 0.10;
    private static final String RESET_MARK = "BAREMETAL-RESET";

    @Test
    void hundredRebootsInPlaceKeepRssAndDescriptorsFlat() throws Exception {
        try (JvmmProcess p =
                JvmmProcess.start(
                        "run", "-k", image("reset.img"), "-m", "64", "--on-reset", "reboot")) {
            long t0 = System.nanoTime();
            awaitBoots(p, 10);
            long rss10 = p.rssKib();
            int fds10 = p.openFds();
            String fdList10 = p.fdTargets();
            awaitBoots(p, 100);
            long rss100 = p.rssKib();
            int fds100 = p.openFds();
            String fdList100 = p.fdTargets();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            p.signal("TERM");
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(30));
            System.out.printf(
                    "reboot soak: boot 10: RSS %d KiB, %d fds; boot 100: RSS %d KiB, %d fds; %d ms for the"
                            + " 100 boots; exit %d%n",
                    rss10, fds10, rss100, fds100, ms, r.code());
            assertEquals(143, r.code(), r.describe());
            // A descriptor leaked per reboot would add 90 here. The JVM may open one or two files
            // lazily in a long run (CI saw 27 -> 28 once, not reproduced by hand); that is not a
            // leak, so allow it, and name every descriptor when the count moves.
            assertTrue(
                    fds100 - fds10 <= 2,
                    "descriptors grew from "
                            + fds10
                            + " (boot 10) to "
                            + fds100
                            + " (boot 100)\nboot 10:\n"
                            + fdList10
                            + "boot 100:\n"
                            + fdList100);
            assertTrue(
                    rss100 <= rss10 * (1 + MAX_GROWTH),
                    "RSS grew from " + rss10 + " KiB (boot 10) to " + rss100 + " KiB (boot 100)");
            assertFalse(r.err().contains("did not stop"), r.describe());
        }
    }

    /**
     * Console input offered: at most this many MiB, for at most {@link #INPUT_SECONDS} of sending.
     */
    static final int INPUT_MIB = Integer.getInteger("jvmm.soak.inputMiB", 100);

    static final int INPUT_SECONDS = Integer.getInteger("jvmm.soak.inputSeconds", 40);

    /**
     * Console input as fast as the guest takes it: every MiB the guest has read it reports with a
     * line, so the test knows how much went through. The guest sets hvc0 raw and without echo:
     * nothing of the input comes back out. jvmm applies back-pressure (it reads stdin only as fast
     * as the device takes it), so the amount is bounded by the guest's speed, not by jvmm's memory.
     */
    @Test
    void consoleInputFloodThroughVirtioConsoleKeepsRssFlat() throws Exception {
        String guest =
                "stty raw -echo; while :; do head -c 1048576 > /dev/null; echo INPUT-MIB; done";
        try (JvmmProcess p =
                JvmmProcess.start(
                        true,
                        "run",
                        "-k",
                        image("Image"),
                        "-i",
                        image("initramfs.gz"),
                        "-m",
                        "256",
                        "--console",
                        "virtio",
                        "-p",
                        "quiet jvmm.modules=virtio_mmio " + guestCommand(guest))) {
            if (!p.awaitStdout("JVMM-BOOT-OK", Duration.ofMinutes(3))) {
                fail("no boot\n--- stdout ---\n" + p.stdout() + "\n--- stderr ---\n" + p.stderr());
            }
            Thread.sleep(
                    3000); // let stty run before the first byte arrives (echo would send it back)
            AtomicLong sent = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            long limit = (long) INPUT_MIB << 20;
            Thread writer =
                    Thread.ofPlatform()
                            .daemon()
                            .name("soak-stdin")
                            .start(
                                    () -> {
                                        byte[] chunk = new byte[64 * 1024];
                                        Arrays.fill(chunk, (byte) 'z');
                                        try {
                                            OutputStream in = p.stdin();
                                            while (!stop.get() && sent.get() < limit) {
                                                in.write(chunk);
                                                in.flush();
                                                sent.addAndGet(chunk.length);
                                            }
                                        } catch (IOException e) {
                                            // jvmm went away; the assertions below say what arrived
                                        }
                                    });
            long t0 = System.nanoTime(), end = t0 + Duration.ofSeconds(INPUT_SECONDS).toNanos();
            long rssWarm = 0, rssMax = 0;
            int fdsWarm = 0, fdsMax = 0;
            while (writer.isAlive() && System.nanoTime() < end) {
                Thread.sleep(1000);
                int mib = count(p.stdout(), "INPUT-MIB");
                if (rssWarm == 0) {
                    if (System.nanoTime() - t0 > Duration.ofSeconds(INPUT_SECONDS / 6).toNanos()) {
                        rssWarm = p.rssKib();
                        fdsWarm = p.openFds();
                    }
                } else {
                    rssMax = Math.max(rssMax, p.rssKib());
                    fdsMax = Math.max(fdsMax, p.openFds());
                }
                if (mib * (1L << 20) >= limit) break;
            }
            stop.set(true);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            long sentBytes = sent.get();
            // what was sent is read by the guest soon: at most the pipe, jvmm's 64 KiB and the
            // guest's buffers wait
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (count(p.stdout(), "INPUT-MIB") < (sentBytes >> 20) - 1
                    && System.nanoTime() < deadline) Thread.sleep(200);
            int mib = count(p.stdout(), "INPUT-MIB");
            long rssEnd = p.rssKib();
            p.signal("TERM");
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(60));
            System.out.printf(
                    "input soak: %d MiB sent and %d MiB read by the guest in %d ms (%.2f MiB/s); RSS after"
                            + " warm-up %d KiB, max after %d KiB, end %d KiB; fds %d then max %d; exit %d%n",
                    sentBytes >> 20,
                    mib,
                    ms,
                    mib * 1000.0 / Math.max(ms, 1),
                    rssWarm,
                    rssMax,
                    rssEnd,
                    fdsWarm,
                    fdsMax,
                    r.code());
            assertEquals(143, r.code(), r.describe());
            assertTrue(
                    mib >= 1 && mib >= (sentBytes >> 20) - 1,
                    "the guest read "
                            + mib
                            + " MiB of "
                            + (sentBytes >> 20)
                            + " sent\n"
                            + r.describe());
            assertTrue(
                    rssWarm > 0 && rssMax <= rssWarm * (1 + MAX_GROWTH),
                    "RSS grew from " + rssWarm + " KiB to " + rssMax + " KiB");
            assertTrue(fdsMax <= fdsWarm, "descriptors grew from " + fdsWarm + " to " + fdsMax);
        }
    }

    private static void awaitBoots(JvmmProcess p, int n) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
        while (count(p.stdout(), RESET_MARK) < n) {
            if (!p.process().isAlive())
                fail("jvmm ended after " + count(p.stdout(), RESET_MARK) + " boots\n" + p.stderr());
            if (System.nanoTime() > deadline)
                fail("only " + count(p.stdout(), RESET_MARK) + " boots\n" + p.stderr());
            Thread.sleep(20);
        }
    }

    private static int count(String s, String needle) {
        int c = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) c++;
        return c;
    }
}
