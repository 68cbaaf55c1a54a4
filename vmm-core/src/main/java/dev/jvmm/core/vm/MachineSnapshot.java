package dev.jvmm.core.vm;

import dev.jvmm.core.JvmmException.Kind;
import dev.jvmm.core.snapshot.GuestDefinition;
import dev.jvmm.core.snapshot.HostFacts;
import dev.jvmm.core.snapshot.HostProbe;
import dev.jvmm.core.snapshot.MemoryImage;
import dev.jvmm.core.snapshot.PartState;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.SnapshotFormat;
import dev.jvmm.core.snapshot.SnapshotManifest;
import dev.jvmm.core.snapshot.SnapshotWriter;
import dev.jvmm.core.snapshot.Snapshottable;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Takes one snapshot of a {@link Machine}: claims the directory (before the guest is touched: a bad
 * path costs it nothing), pauses the guest, saves every part's record in the machine's order, then
 * guest RAM (after the records: saving the vGIC and ITS writes LPI pending bits and ITS tables into
 * guest RAM), then the manifest, last. Pause and resume cannot interleave with it.
 */
final class MachineSnapshot {
    private static final System.Logger LOG = System.getLogger("jvmm.vm");

    private final Machine machine;

    MachineSnapshot(Machine machine) {
        this.machine = machine;
    }

    long take(Path dir, boolean stop) throws PauseException {
        VmConfig config = machine.config();
        if (config.cpu().mte()) {
            // the tags are not in the RAM mapping (KVM_ARM_MTE_COPY_TAGS): a restore would lose
            // them
            throw new SnapshotException(
                    Kind.HOST_UNSUPPORTED,
                    "cannot snapshot: the guest runs with MTE (--mte), whose memory tags are not"
                            + " in guest RAM; jvmm does not save them");
        }
        if (machine.virtio().pci()) {
            throw new SnapshotException(
                    Kind.HOST_UNSUPPORTED,
                    "cannot snapshot: the guest's virtio devices are on PCI"
                            + " (--virtio-transport pci), whose state jvmm does not save yet");
        }
        SnapshotWriter writer = SnapshotWriter.create(dir);
        long bytes;
        try {
            bytes = machine.lifecycle().whilePaused(() -> write(writer), stop);
        } catch (RuntimeException | PauseException e) {
            writer.abandon();
            throw e;
        }
        LOG.log(Level.INFO, "snapshot written to " + dir + " (" + bytes + " bytes)");
        if (stop) {
            machine.stop(
                    VmResult.of(
                            VmResult.Reason.STOPPED_BY_API,
                            "stopped after its snapshot to " + dir));
        }
        return bytes;
    }

    private long write(SnapshotWriter writer) {
        List<PartState> parts = new ArrayList<>();
        for (Snapshottable<?> p : machine.snapshotParts())
            parts.add(SnapshotWriter.partState(p.stateKey(), p.saveState()));
        Machine.BuiltWith built = machine.builtWith();
        GuestDefinition guest =
                SavedConfig.of(machine.config(), built.devices(), machine.firmware());
        HostFacts host =
                HostProbe.ofGuest(
                        machine.firmware(),
                        machine.vcpus().get(0),
                        built.ipaBits(),
                        machine.config().cpu().mte());
        MemoryImage memory = writer.writeMemory(machine.ram().segment());
        long manifest =
                writer.writeManifest(
                        new SnapshotManifest(
                                SnapshotFormat.NAME,
                                SnapshotFormat.VERSION,
                                jvmmVersion(),
                                Instant.now().truncatedTo(ChronoUnit.MILLIS).toString(),
                                guest,
                                host,
                                memory,
                                parts));
        return memory.dataBytes() + manifest;
    }

    /** The version the build wrote into the jar, as {@code jvmm --version} shows it. */
    static String jvmmVersion() {
        try (InputStream in =
                MachineSnapshot.class.getResourceAsStream("/jvmm-version.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
