package dev.jvmm.cli.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.cli.Main;
import dev.jvmm.kvm.testing.BootTest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 14's main case on the stock Debian kernel: a guest printing a counter every second is
 * snapshotted and stopped, then restored in a new jvmm process, twice over. The counter goes on
 * from where it stopped, the guest does not boot again, and its uptime and steal time never go
 * backwards.
 */
@BootTest
class SnapshotLinuxBootTest {
    private static final Duration LIMIT = Duration.ofMinutes(3);
    private static final Pattern TICK = Pattern.compile("tick (\\d+) ([0-9.]+) (\\d+)");
    private static final String TICKER =
            "i=0; while :; do echo tick $i $(cut -d' ' -f1 /proc/uptime)"
                    + " $(awk '/^cpu /{print $9}' /proc/stat); i=$((i+1)); sleep 1; done";

    /** How long the first run stays paused before its snapshot. */
    private static final long PAUSED_MS = 15_000;

    @TempDir Path dir;

    private record Tick(int n, double uptime, long steal) {}

    private int ctl(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "ctl";
        all[1] = "--socket";
        all[2] = dir.resolve("api.sock").toString();
        System.arraycopy(args, 0, all, 3, args.length);
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(all, new PrintWriter(out, true), new PrintWriter(err, true));
        if (code != 0) System.err.println("ctl " + String.join(" ", args) + ": " + err);
        return code;
    }

    private static List<Tick> ticks(String console) {
        List<Tick> all = new ArrayList<>();
        Matcher m = TICK.matcher(console);
        while (m.find())
            all.add(
                    new Tick(
                            Integer.parseInt(m.group(1)),
                            Double.parseDouble(m.group(2)),
                            Long.parseLong(m.group(3))));
        return all;
    }

    /** Snapshots the running guest with --stop and returns the ticks it printed. */
    private List<Tick> snapshotAndStop(JvmmProcess p, Path snap) throws Exception {
        assertEquals(0, ctl("snapshot", "--dir", snap.toString(), "--stop"));
        JvmmProcess.Result r = p.waitFor(LIMIT);
        assertEquals(0, r.code(), r.describe());
        List<Tick> t = ticks(r.out());
        assertFalse(t.isEmpty(), r.describe());
        return t;
    }

    private JvmmProcess restore(Path snap, int expectTick) throws Exception {
        JvmmProcess p =
                JvmmProcess.start(
                        "run",
                        "--restore",
                        snap.toString(),
                        "--api-socket",
                        dir.resolve("api.sock").toString(),
                        "--timeout",
                        "300");
        if (!p.awaitStdout("tick " + expectTick + " ", LIMIT)) {
            p.close();
            fail(
                    "the restored guest printed no tick "
                            + expectTick
                            + "\n"
                            + p.stdout()
                            + "\n---\n"
                            + p.stderr());
        }
        return p;
    }

    @Test
    void aTickingGuestGoesOnFromWhereItStoppedAcrossTwoRestores() throws Exception {
        List<Tick> before;
        try (JvmmProcess p =
                JvmmProcess.start(
                        JvmmProcess.debian(
                                TICKER,
                                "-c",
                                "2",
                                "--api-socket",
                                dir.resolve("api.sock").toString(),
                                "--timeout",
                                "300"))) {
            if (!p.awaitStdout("tick 3 ", LIMIT))
                fail("no tick 3\n" + p.stdout() + "\n---\n" + p.stderr());
            // paused well before the snapshot: the pause's seconds must not reach guest time
            assertEquals(0, ctl("pause"));
            Thread.sleep(PAUSED_MS);
            before = snapshotAndStop(p, dir.resolve("snap1"));
        }
        Tick last = before.get(before.size() - 1);

        List<Tick> after1;
        try (JvmmProcess p = restore(dir.resolve("snap1"), last.n() + 2)) {
            assertFalse(p.stdout().contains("JVMM-BOOT-OK"), "no second boot\n" + p.stdout());
            after1 = snapshotAndStop(p, dir.resolve("snap2"));
        }
        checkContinues(last, after1);
        Tick last1 = after1.get(after1.size() - 1);

        try (JvmmProcess p = restore(dir.resolve("snap2"), last1.n() + 2)) {
            String out = p.stdout();
            assertFalse(out.contains("JVMM-BOOT-OK"), "no second boot\n" + out);
            checkContinues(last1, ticks(out));
            assertEquals(0, ctl("stop"));
            JvmmProcess.Result r = p.waitFor(LIMIT);
            assertEquals(0, r.code(), r.describe());
        }
    }

    /** The restored guest's first tick is the next one, and its clocks did not go back. */
    private static void checkContinues(Tick last, List<Tick> after) {
        assertFalse(after.isEmpty());
        Tick first = after.get(0);
        assertEquals(last.n() + 1, first.n(), "the counter goes on: " + last + " then " + after);
        assertTrue(first.uptime() >= last.uptime(), "uptime went back: " + last + " then " + first);
        assertTrue(first.steal() >= last.steal(), "steal went back: " + last + " then " + first);
        // guest time stops while paused and saved: the next tick comes about a second of guest
        // time later, not after the 15 s pause before the first snapshot
        assertTrue(
                first.uptime() - last.uptime() < 6,
                "guest time jumped: " + last + " then " + first);
        for (int i = 1; i < after.size(); i++)
            assertEquals(after.get(i - 1).n() + 1, after.get(i).n(), "ticks in order: " + after);
    }

    /**
     * A guest writing its disk without pause (each write fsynced, then reported with the marker it
     * reads back from the disk) is snapshotted in the middle of it, over virtio-mmio (INTx through
     * the GICv3) and over virtio-pci with MSI-X through an ITS (virtio-pci over INTx saves and
     * restores the same parts minus MSI-X; VirtioPciBootTest boots it): the restored guest goes on
     * writing and reading, so its requests and their interrupts work, it reads the marker written
     * before the snapshot back through the restored device, and the image holds that marker and the
     * counter the guest last reported (or the one after it).
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"mmio, gicv3", "pci, gicv3-its"})
    void aDiskBeingWrittenAtTheSnapshotHoldsWhatTheGuestWroteAfterRestore(
            String transport, String irqchip) throws Exception {
        Path disk = dir.resolve("disk.img");
        try (var f =
                java.nio.channels.FileChannel.open(
                        disk,
                        java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE)) {
            f.write(java.nio.ByteBuffer.allocate(1), (8L << 20) - 1);
        }
        // each reader of /dev/vda is its last opener, whose close drops the page cache: head
        // reads the marker through the device every time
        String writer =
                "printf BEFORE-SNAP | dd of=/dev/vda conv=fsync 2>/dev/null; i=0; while :; do"
                        + " printf %08d $i | dd of=/dev/vda bs=8 seek=512 conv=fsync,notrunc"
                        + " 2>/dev/null && echo disk $i $(head -c 11 /dev/vda); i=$((i+1)); done";
        String modules = transport.equals("pci") ? "virtio_blk" : "virtio_mmio,virtio_blk";
        String[] args = {
            "run",
            "-k",
            JvmmProcess.image("Image"),
            "-i",
            JvmmProcess.image("initramfs.gz"),
            "-m",
            "256",
            "--virtio-transport",
            transport,
            "--irqchip",
            irqchip,
            "-p",
            "quiet jvmm.modules=" + modules + " " + JvmmProcess.guestCommand(writer),
            "--disk",
            "path=" + disk,
            "--api-socket",
            dir.resolve("api.sock").toString(),
            "--timeout",
            "300"
        };
        int lastBefore;
        Path snap = dir.resolve("snap");
        try (JvmmProcess p = JvmmProcess.start(args)) {
            if (!p.awaitStdout("disk 21", LIMIT))
                fail("no disk 21\n" + p.stdout() + "\n---\n" + p.stderr());
            assertEquals(0, ctl("snapshot", "--dir", snap.toString(), "--stop"));
            JvmmProcess.Result r = p.waitFor(LIMIT);
            assertEquals(0, r.code(), r.describe());
            lastBefore = lastDisk(r.out());
        }
        String manifest = java.nio.file.Files.readString(snap.resolve("snapshot.json"));
        assertTrue(
                manifest.contains("\"virtioTransport\":\"" + transport + "\""),
                "the transport is part of the guest definition");
        assertEquals(
                transport.equals("pci"),
                manifest.contains("\"key\":\"virtio-pci.00:00.0\""),
                "the PCI function's part");
        String out;
        try (JvmmProcess p =
                JvmmProcess.start(
                        "run",
                        "--restore",
                        snap.toString(),
                        "--api-socket",
                        dir.resolve("api.sock").toString(),
                        "--timeout",
                        "300")) {
            if (!p.awaitStdout("disk " + (lastBefore + 3) + " ", LIMIT))
                fail("the restored guest wrote nothing\n" + p.stdout() + "\n---\n" + p.stderr());
            assertEquals(0, ctl("stop"));
            JvmmProcess.Result r = p.waitFor(LIMIT);
            assertEquals(0, r.code(), r.describe());
            out = r.out();
        }
        assertFalse(out.contains("JVMM-BOOT-OK"), "no second boot\n" + out);
        int last = lastDisk(out);
        assertTrue(last > lastBefore + 2, "the restored guest went on writing\n" + out);
        assertTrue(
                out.contains("disk " + (lastBefore + 2) + " BEFORE-SNAP"),
                "the restored guest reads back what it wrote before the snapshot\n" + out);
        byte[] image = java.nio.file.Files.readAllBytes(disk);
        assertEquals(
                "BEFORE-SNAP",
                new String(image, 0, 11, java.nio.charset.StandardCharsets.US_ASCII));
        int onDisk =
                Integer.parseInt(
                        new String(image, 4096, 8, java.nio.charset.StandardCharsets.US_ASCII));
        assertTrue(
                onDisk == last || onDisk == last + 1,
                "the image holds " + onDisk + ", the guest last reported " + last);
    }

    private static int lastDisk(String console) {
        Matcher m = Pattern.compile("disk (\\d+)").matcher(console);
        int last = -1;
        while (m.find()) last = Integer.parseInt(m.group(1));
        return last;
    }
}
