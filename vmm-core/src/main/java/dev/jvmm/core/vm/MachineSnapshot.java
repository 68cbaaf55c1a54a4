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
import dev.jvmm.kvm.KvmException;
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
        long t0 = System.nanoTime();
        SnapshotWriter writer = SnapshotWriter.create(dir);
        long bytes;
        try {
            bytes = machine.lifecycle().whilePaused(() -> write(writer), stop);
        } catch (RuntimeException | PauseException e) {
            writer.abandon();
            throw e;
        }
        LOG.log(
                Level.INFO,
                "snapshot written to "
                        + dir
                        + " ("
                        + bytes
                        + " bytes) in "
                        + (System.nanoTime() - t0) / 1_000_000
                        + " ms");
        if (stop) {
            machine.stop(
                    VmResult.of(
                            VmResult.Reason.STOPPED_BY_API,
                            "stopped after its snapshot to " + dir));
        }
        return bytes;
    }

    private long write(SnapshotWriter writer) {
        try {
            return writeAll(writer);
        } catch (KvmException e) { // outside the parts: the host facts read on vCPU 0
            throw failed(e.operation(), e);
        }
    }

    private long writeAll(SnapshotWriter writer) {
        List<PartState> parts = saveParts(machine.snapshotParts());
        Machine.BuiltWith built = machine.builtWith();
        GuestDefinition guest =
                SavedConfig.of(
                        machine.config(),
                        built.devices(),
                        machine.virtio().pciFunctions(),
                        machine.firmware());
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

    /**
     * Every part's record, in the machine's order. A KVM call that fails while a part saves is one
     * line naming the call, the part and the errno (the snapshot is abandoned, nothing is kept).
     */
    static List<PartState> saveParts(List<Snapshottable<?>> parts) {
        List<PartState> saved = new ArrayList<>();
        for (Snapshottable<?> p : parts) {
            try {
                saved.add(SnapshotWriter.partState(p.stateKey(), p.saveState()));
            } catch (KvmException e) {
                throw failed(e.operation() + " on " + partName(p.stateKey()), e);
            }
        }
        return saved;
    }

    private static SnapshotException failed(String what, KvmException e) {
        return new SnapshotException(
                Kind.HOST_ERROR,
                "snapshot failed: "
                        + what
                        + ": "
                        + e.errnoName()
                        + "; no snapshot was written and the VM goes on as before",
                e);
    }

    /** {@code vcpu.0} as "vCPU 0", any other part by its key ("the gic"). */
    static String partName(String key) {
        return key.startsWith("vcpu.") ? "vCPU " + key.substring(5) : "the " + key;
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
