package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.guestCommand;
import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.cli.Main;
import dev.jvmm.kvm.testing.BootTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jvmm ctl pause} / {@code resume} against real guests: the stock kernel printing a counter
 * stops printing while paused and goes on from the next value after resume (no reboot, guest time
 * frozen), a disk written during the pause holds exactly what the guest wrote, and a paused VM
 * still ends with the usual exit codes on ctl stop, SIGTERM and --timeout.
 */
@BootTest
class PauseBootTest {
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(3);
    private static final Pattern TICK = Pattern.compile("TICK-(\\d+) ([0-9.]+)");

    @TempDir Path dir;

    private record Ctl(int code, String out, String err) {
        String describe() {
            return "exit " + code + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
        }
    }

    private Ctl ctl(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] all = new String[args.length + 3];
        all[0] = "ctl";
        all[1] = "--socket";
        all[2] = dir.resolve("api.sock").toString();
        System.arraycopy(args, 0, all, 3, args.length);
        int code = Main.execute(all, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Ctl(code, out.toString(), err.toString());
    }

    private String[] linux(String shell, String... more) {
        List<String> a =
                new ArrayList<>(
                        List.of(
                                "run",
                                "-k",
                                image("Image"),
                                "-i",
                                image("initramfs.gz"),
                                "-c",
                                "2",
                                "-m",
                                "256",
                                "--api-socket",
                                dir.resolve("api.sock").toString(),
                                "-p",
                                "quiet jvmm.modules=virtio_mmio,virtio_blk "
                                        + guestCommand(shell)));
        a.addAll(Arrays.asList(more));
        return a.toArray(String[]::new);
    }

    private static void await(JvmmProcess p, String needle) throws InterruptedException {
        if (!p.awaitStdout(needle, BOOT_LIMIT))
            fail(
                    "no "
                            + needle
                            + "\n--- stdout ---\n"
                            + p.stdout()
                            + "\n--- stderr ---\n"
                            + p.stderr());
    }

    private static void assertOk(Ctl c, String expected) {
        assertEquals(0, c.code(), c.describe());
        assertEquals(expected, c.out(), c.describe());
    }

    @Test
    void aPausedGuestPrintsNothingAndGoesOnFromTheNextValueAfterResume() throws Exception {
        String counter =
                "i=0; while [ $i -lt 30 ]; do echo TICK-$i $(cut -d' ' -f1 /proc/uptime);"
                        + " i=$((i+1)); sleep 0.2; done";
        JvmmProcess.Result r;
        long pausedMillis;
        try (JvmmProcess p = JvmmProcess.start(linux(counter, "--timeout", "600"))) {
            await(p, "TICK-5 ");
            long t0 = System.nanoTime();
            assertOk(ctl("pause"), "paused\n");
            Thread.sleep(500); // console bytes already on their way to our reader
            String atPause = p.stdout();
            Thread.sleep(2500);
            assertEquals(atPause, p.stdout(), "console output while paused");
            assertTrue(ctl("status").out().startsWith("state    paused\n"));
            assertOk(ctl("pause"), "already paused\n");
            assertOk(ctl("resume"), "resumed\n");
            pausedMillis = (System.nanoTime() - t0) / 1_000_000;
            assertOk(ctl("resume"), "already running\n");
            assertTrue(ctl("status").out().startsWith("state    running\n"));
            r = p.waitFor(BOOT_LIMIT);
        }
        assertEquals(0, r.code(), r.describe());
        List<Integer> ticks = new ArrayList<>();
        List<Double> uptimes = new ArrayList<>();
        Matcher m = TICK.matcher(r.out());
        while (m.find()) {
            ticks.add(Integer.parseInt(m.group(1)));
            uptimes.add(Double.parseDouble(m.group(2)));
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < 30; i++) expected.add(i);
        assertEquals(expected, ticks, "the counter went on from the next value\n" + r.describe());
        assertEquals(
                1,
                r.out().lines().filter(l -> l.contains("JVMM-BOOT-OK")).count(),
                "no reboot\n" + r.describe());
        assertTrue(r.out().contains("JVMM-CMD-EXIT=0"), r.describe());
        // guest time stood still: no gap between two ticks comes near the pause
        double largestGap = 0;
        for (int i = 1; i < uptimes.size(); i++)
            largestGap = Math.max(largestGap, uptimes.get(i) - uptimes.get(i - 1));
        assertTrue(pausedMillis >= 2900, "paused for " + pausedMillis + " ms");
        assertTrue(
                largestGap < 1.5,
                "largest guest-uptime gap between ticks "
                        + largestGap
                        + " s across a pause of "
                        + pausedMillis
                        + " ms\n"
                        + r.describe());
    }

    @Test
    void aDiskWrittenAcrossAPauseHoldsExactlyWhatTheGuestWrote() throws Exception {
        Path disk = Files.write(dir.resolve("disk.img"), new byte[32 << 20]);
        String writer =
                "echo DD-START; for i in $(seq 1 40); do seq 1 100000; done"
                        + " | dd of=/dev/vda bs=64k iflag=fullblock conv=fsync;"
                        + " echo DD-RC=$?";
        JvmmProcess.Result r;
        try (JvmmProcess p =
                JvmmProcess.start(linux(writer, "--disk", "path=" + disk, "--timeout", "600"))) {
            await(p, "DD-START");
            Ctl pause = ctl("pause");
            assertEquals(0, pause.code(), pause.describe() + "\n--- guest ---\n" + p.stdout());
            assertFalse(p.stdout().contains("DD-RC="), "dd ended before the pause");
            Thread.sleep(1000);
            assertOk(ctl("resume"), "resumed\n");
            r = p.waitFor(BOOT_LIMIT);
        }
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("DD-RC=0"), r.describe());
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        StringBuilder one = new StringBuilder();
        for (int i = 1; i <= 100000; i++) one.append(i).append('\n');
        byte[] oneBytes = one.toString().getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 40; i++) want.write(oneBytes);
        byte[] got = Arrays.copyOf(Files.readAllBytes(disk), want.size());
        assertArrayEquals(want.toByteArray(), got, "the image after the pause");
        assertFalse(
                r.out().lines().filter(l -> l.contains("JVMM-BOOT-OK")).count() > 1, "no reboot");
    }

    /** Bare metal is enough for the ways out: a spinning guest never stops by itself. */
    private JvmmProcess pausedSpinner(String... more) throws Exception {
        List<String> a =
                new ArrayList<>(
                        List.of(
                                "run",
                                "-k",
                                image("spin.img"),
                                "-c",
                                "2",
                                "-m",
                                "64",
                                "--api-socket",
                                dir.resolve("api.sock").toString()));
        a.addAll(Arrays.asList(more));
        JvmmProcess p = JvmmProcess.start(a.toArray(String[]::new));
        await(p, "BAREMETAL-SPIN");
        assertOk(ctl("pause"), "paused\n");
        assertTrue(ctl("status").out().startsWith("state    paused\n"));
        return p;
    }

    @Test
    void aPausedVmEndsWithTheUsualExitCodes() throws Exception {
        try (JvmmProcess p = pausedSpinner()) {
            assertOk(ctl("stop"), "stopping\n");
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(30));
            assertEquals(0, r.code(), "ctl stop while paused\n" + r.describe());
        }
        try (JvmmProcess p = pausedSpinner()) {
            p.signal("TERM");
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(30));
            assertEquals(143, r.code(), "SIGTERM while paused\n" + r.describe());
        }
        try (JvmmProcess p = pausedSpinner("--timeout", "8")) {
            JvmmProcess.Result r = p.waitFor(Duration.ofSeconds(60));
            assertEquals(124, r.code(), "--timeout while paused\n" + r.describe());
        }
    }
}
