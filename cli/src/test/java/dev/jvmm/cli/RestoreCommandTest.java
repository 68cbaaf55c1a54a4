package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.snapshot.GuestDefinition;
import dev.jvmm.core.snapshot.HostFacts;
import dev.jvmm.core.snapshot.MemoryImage;
import dev.jvmm.core.snapshot.SnapshotFormat;
import dev.jvmm.core.snapshot.SnapshotManifest;
import dev.jvmm.core.snapshot.SnapshotWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code jvmm run --restore DIR}: options that would change the guest are refused by name; the
 * snapshot is read and checked before any KVM work, and every problem is one line, exit 2.
 */
class RestoreCommandTest {
    @TempDir Path tmp;

    private static void assertUsageError(MainTest.Result r, String message) {
        assertEquals(ExitCodes.USAGE, r.code(), r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertFalse(err.contains("Exception"), err);
        assertEquals("jvmm: " + message, err);
        assertEquals("", r.out());
    }

    private static String gated(String option) {
        return "--restore: "
                + option
                + " would change the guest, which the snapshot defines; with --restore give only"
                + " --serial, --api-socket, --timeout, --log-level, --on-reset or --mem-lock";
    }

    /** One option of each class: boot images, guest shape, devices, firmware, services, CPU. */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "--kernel=/k",
                "--initrd=/i",
                "--params=quiet",
                "--cpus=2",
                "--memory=512M",
                "--disk=/d.img",
                "--net=tap0",
                "--rng",
                "--console=virtio",
                "--hypercalls=none",
                "--psci=1.0",
                "--no-pvtime",
                "--sdei",
                "--smccc=deny=0xC4000020",
                "--shared-regions",
                "--pmu",
                "--disable-sve",
                "--irqchip=gicv3-its",
                "--virtio-transport=pci",
                "--virtio-transport=mmio",
                "--dump-dtb=/x.dtb",
                "--nodefaults"
            })
    void optionsThatChangeTheGuestAreRefusedByName(String option) throws IOException {
        Path snap = Files.createDirectory(tmp.resolve("snap"));
        if (option.equals("--disk=/d.img")) { // the converter checks the file itself first
            option = "--disk=" + Files.writeString(tmp.resolve("d.img"), "x");
        }
        String name = option.contains("=") ? option.substring(0, option.indexOf('=')) : option;
        MainTest.Result r = MainTest.run("run", "--restore", snap.toString(), option);
        assertUsageError(r, gated(name));
    }

    @Test
    void shortSpellingsAreNamedByTheirLongName() throws IOException {
        Path snap = Files.createDirectory(tmp.resolve("snap"));
        assertUsageError(
                MainTest.run("run", "--restore", snap.toString(), "-c", "2"), gated("--cpus"));
        assertUsageError(
                MainTest.run("run", "-k", "/k", "--restore", snap.toString()), gated("--kernel"));
    }

    @Test
    void hostSideOptionsPassAndTheSnapshotIsReadFirst() {
        Path none = tmp.resolve("none");
        MainTest.Result r =
                MainTest.run(
                        "run",
                        "--restore",
                        none.toString(),
                        "--serial",
                        "none",
                        "--timeout",
                        "5s",
                        "--log-level",
                        "error",
                        "--on-reset",
                        "reboot",
                        "--mem-lock",
                        "--api-socket",
                        tmp.resolve("api.sock").toString());
        assertUsageError(r, "snapshot " + none + ": no such directory");
        assertFalse(Files.exists(tmp.resolve("api.sock")), "nothing opened before the check");
    }

    @Test
    void aHalfWrittenSnapshotIsRefused() {
        Path snap = tmp.resolve("snap");
        SnapshotWriter.create(snap).writeMemory(MemorySegment.ofArray(new byte[8192]));
        assertUsageError(
                MainTest.run("run", "--restore", snap.toString()),
                "snapshot "
                        + snap
                        + ": incomplete snapshot: its writing did not finish (no snapshot.json)");
    }

    /** A complete snapshot directory holding {@code parts}, a guest on {@code transport}. */
    private Path snapshot(
            List<String> partKeys,
            String transport,
            int rngs,
            List<GuestDefinition.PciFunctionDefinition> pci) {
        Path snap = tmp.resolve("snap");
        long ram = 16L << 20;
        SnapshotWriter w = SnapshotWriter.create(snap);
        MemoryImage mem = w.writeMemory(MemorySegment.ofArray(new byte[(int) ram]));
        List<dev.jvmm.core.snapshot.PartState> parts = new ArrayList<>();
        for (String key : partKeys) parts.add(SnapshotWriter.partState(key, new Uart(1)));
        w.writeManifest(
                new SnapshotManifest(
                        SnapshotFormat.NAME,
                        SnapshotFormat.VERSION,
                        "test",
                        "now",
                        new GuestDefinition(
                                1,
                                ram,
                                "console=ttyS0",
                                "GICV3",
                                false,
                                true,
                                true,
                                "1.1",
                                Map.of(),
                                true,
                                false,
                                List.of(),
                                List.of(),
                                false,
                                List.of(),
                                List.of(),
                                List.of(),
                                rngs > 0,
                                false,
                                false,
                                transport,
                                pci),
                        new HostFacts(
                                Map.of(), "1.1", Map.of(), 1, 40, List.of(), false, false, false,
                                null),
                        mem,
                        parts));
        return snap;
    }

    @Test
    void aSnapshotWithoutVcpuStateIsRefusedBeforeAnyGuestRuns() {
        Path snap = snapshot(List.of("uart"), null, 0, null);
        assertUsageError(
                MainTest.run("run", "--restore", snap.toString()),
                "cannot restore "
                        + snap
                        + ": the snapshot lacks the vCPU state (it holds uart); a guest is never run"
                        + " with half its state");
    }

    @Test
    void aPciLayoutThisJvmmDoesNotBuildIsRefusedBeforeAnythingIsBuilt() {
        // the guest had an entropy device at 00:00.0 with a 16 KiB BAR (before MSI-X); this jvmm's
        // has 32 KiB
        Path snap =
                snapshot(
                        List.of("vcpu.0", "virtio-pci.00:00.0"),
                        "pci",
                        1,
                        List.of(
                                new GuestDefinition.PciFunctionDefinition(
                                        "00:00.0", 0x1af4, 0x1044, List.of(0x4000L))));
        assertUsageError(
                MainTest.run("run", "--restore", snap.toString()),
                "cannot restore "
                        + snap
                        + ": its PCI layout does not match: the snapshot has 00:00.0 1af4:1044 BARs"
                        + " [0x4000] where this jvmm builds 00:00.0 1af4:1044 BARs [0x8000]");
    }

    @Test
    void withoutKernelOrRestoreTheKernelIsRequired() {
        MainTest.Result r = MainTest.run("run");
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("--kernel"), r.err());
    }

    record Uart(int ier) {}

    @Test
    void mainFindsTheSnapshotToReadAheadInTheRawCommandLine() {
        assertEquals("/s", RunCommand.restoreDir(new String[] {"run", "--restore", "/s"}));
        assertEquals("/s", RunCommand.restoreDir(new String[] {"run", "-c", "2", "--restore=/s"}));
        assertEquals(null, RunCommand.restoreDir(new String[] {"run", "--restore"}));
        assertEquals(null, RunCommand.restoreDir(new String[] {"run", "-k", "/k"}));
        assertEquals(null, RunCommand.restoreDir(new String[] {"ctl", "--restore", "/s"}));
        assertEquals(null, RunCommand.restoreDir(new String[0]));
    }

    /**
     * Through the real {@code main}, which starts reading the snapshot before picocli parses: a
     * usage error in the options still comes first, and the snapshot's own refusal is the line a
     * read on the main thread gives.
     */
    @Test
    void theSnapshotReadAheadKeepsTheOrderOfTheRefusals() throws Exception {
        Path none = tmp.resolve("none");
        MainTest.Result gated =
                ChildJvmm.run(List.of(), false, "run", "--restore", none.toString(), "--cpus=2");
        assertUsageError(gated, gated("--cpus"));
        MainTest.Result missing = ChildJvmm.run(List.of(), false, "run", "--restore=" + none);
        assertUsageError(missing, "snapshot " + none + ": no such directory");
    }
}
