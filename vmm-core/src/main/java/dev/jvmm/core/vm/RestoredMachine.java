package dev.jvmm.core.vm;

import dev.jvmm.core.JvmmException.Kind;
import dev.jvmm.core.snapshot.GuestDefinition;
import dev.jvmm.core.snapshot.HostFacts;
import dev.jvmm.core.snapshot.HostProbeAhead;
import dev.jvmm.core.snapshot.PartState;
import dev.jvmm.core.snapshot.RestoreCheck;
import dev.jvmm.core.snapshot.Snapshot;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.Snapshottable;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rebuilds a snapshot's guest, ready to run on from where it was: checks this host against what the
 * guest was given (before anything is built), builds the same machine with the firmware pinned to
 * the saved values and no images loaded, fills guest RAM from the memory file (its data mapped
 * copy-on-write: {@link Snapshot#mapMemory}), then restores every part in the machine's restore
 * order — all before any vCPU runs. A snapshot that lacks a part the machine has is refused: a
 * guest never runs with half its state.
 */
public final class RestoredMachine {
    private static final System.Logger LOG = System.getLogger("jvmm.vm");

    private RestoredMachine() {}

    /**
     * Builds the snapshot's machine with its state restored; the caller runs and closes it.
     *
     * @param memLock --mem-lock given on the destination (the saved flag applies too)
     * @throws SnapshotException one line: the host lacks what the guest had, a disk changed, a part
     *     is missing or does not fit
     */
    public static Machine build(
            Snapshot snapshot,
            VmConfig.OnReset onReset,
            Duration timeout,
            OutputStream consoleOut,
            boolean memLock) {
        return build(snapshot, onReset, timeout, consoleOut, memLock, null);
    }

    /**
     * As above, with the host probe started before the snapshot was read ({@link HostProbeAhead});
     * null probes now.
     */
    public static Machine build(
            Snapshot snapshot,
            VmConfig.OnReset onReset,
            Duration timeout,
            OutputStream consoleOut,
            boolean memLock,
            HostProbeAhead probe) {
        long t0 = System.nanoTime();
        GuestDefinition g = snapshot.manifest().guest();
        requireVcpuState(snapshot);
        SavedPciLayout.check(snapshot.dir(), g);
        HostFacts here = probe != null ? probe.offered(g) : HostProbeAhead.now(g);
        RestoreCheck.check(snapshot.manifest().host(), here);
        long t1 = System.nanoTime();
        VmConfig config = SavedConfig.toConfig(g, onReset, timeout, consoleOut, memLock);
        VirtioConfig devices = SavedConfig.toVirtio(g);
        Machine m = VmBuilder.restoring(config, devices, g).build();
        long t2 = System.nanoTime(), t3;
        Snapshot.MemoryLoad load;
        try {
            matchParts(snapshot, m.snapshotParts());
            // pinned RAM (--mem-lock) is already faulted in and locked: the data is read into it;
            // otherwise the file's runs are mapped copy-on-write, nothing copied
            load =
                    config.memLock()
                            ? snapshot.loadMemory(m.ram().segment())
                            : snapshot.mapMemory(m.ram().segment());
            t3 = System.nanoTime();
            Map<String, PartState> saved = byKey(snapshot.manifest().parts());
            StringBuilder each = LOG.isLoggable(Level.DEBUG) ? new StringBuilder() : null;
            for (Snapshottable<?> p : m.snapshotParts()) {
                long p0 = System.nanoTime();
                restore(snapshot, p, saved.get(p.stateKey()));
                if (each != null)
                    each.append(each.isEmpty() ? "" : ", ")
                            .append(p.stateKey())
                            .append(' ')
                            .append(ms(System.nanoTime() - p0))
                            .append(" ms");
            }
            if (each != null) LOG.log(Level.DEBUG, "restore: parts " + each);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        long t4 = System.nanoTime();
        // where a restore's time goes (bench/restore-bench reads this line); concatenated, not
        // String.format: a first %d loads the JDK's locale data, ~0.1-0.2 s in the lab, between the
        // restored state and the guest's first instruction, even when the line is not printed
        LOG.log(
                Level.INFO,
                "restore: host checked in "
                        + ms(t1 - t0)
                        + " ms, machine built in "
                        + ms(t2 - t1)
                        + " ms, memory read in "
                        + ms(t3 - t2)
                        + " ms ("
                        + (snapshot.manifest().memory().dataBytes() >> 20)
                        + " MiB of data, "
                        + load.runs()
                        + " runs "
                        + (load.mapped() ? "mapped" : "read")
                        + ", CRC32C "
                        + ms(load.crcNanos())
                        + " ms"
                        + (load.crcAhead() ? ", ahead" : "")
                        + "), "
                        + m.snapshotParts().size()
                        + " parts restored in "
                        + ms(t4 - t3)
                        + " ms");
        return m;
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    /**
     * A snapshot without the vCPUs' registers cannot continue the guest (this is also what a
     * snapshot taken by a jvmm without vCPU state parts looks like).
     */
    static void requireVcpuState(Snapshot snapshot) {
        boolean vcpus =
                snapshot.manifest().parts().stream().anyMatch(p -> p.key().startsWith("vcpu"));
        if (!vcpus) {
            throw new SnapshotException(
                    Kind.USAGE,
                    "cannot restore "
                            + snapshot.dir()
                            + ": the snapshot lacks the vCPU state (it holds "
                            + keys(snapshot.manifest().parts())
                            + "); a guest is never run with half its state");
        }
    }

    /** The snapshot must hold exactly the parts this machine has. */
    static void matchParts(Snapshot snapshot, List<Snapshottable<?>> parts) {
        Map<String, PartState> saved = byKey(snapshot.manifest().parts());
        List<String> missing = new ArrayList<>();
        for (Snapshottable<?> p : parts)
            if (saved.remove(p.stateKey()) == null) missing.add(p.stateKey());
        if (!missing.isEmpty()) {
            throw new SnapshotException(
                    Kind.USAGE,
                    "cannot restore "
                            + snapshot.dir()
                            + ": the snapshot lacks the state of "
                            + String.join(", ", missing));
        }
        if (!saved.isEmpty()) {
            throw new SnapshotException(
                    Kind.USAGE,
                    "cannot restore "
                            + snapshot.dir()
                            + ": it holds state this jvmm's machine has no part for: "
                            + String.join(", ", saved.keySet()));
        }
    }

    private static <S extends Record> void restore(
            Snapshot snapshot, Snapshottable<S> part, PartState state) {
        part.restoreState(snapshot.state(state, part.stateType()));
    }

    private static Map<String, PartState> byKey(List<PartState> parts) {
        Map<String, PartState> m = new LinkedHashMap<>();
        for (PartState p : parts) m.put(p.key(), p);
        return m;
    }

    private static String keys(List<PartState> parts) {
        return parts.isEmpty()
                ? "no part records"
                : String.join(", ", parts.stream().map(PartState::key).toList());
    }
}
