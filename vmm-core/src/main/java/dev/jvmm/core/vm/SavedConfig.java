package dev.jvmm.core.vm;

import dev.jvmm.core.JvmmException;
import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.arch.aarch64.CpuFeatures;
import dev.jvmm.core.firmware.BitmapRegister;
import dev.jvmm.core.firmware.FirmwareConfig;
import dev.jvmm.core.firmware.GuestFirmware;
import dev.jvmm.core.firmware.HostFirmware;
import dev.jvmm.core.firmware.HypercallSelection;
import dev.jvmm.core.firmware.ServiceBitmaps;
import dev.jvmm.core.hypercall.FunctionRange;
import dev.jvmm.core.hypercall.HypercallConfig;
import dev.jvmm.core.hypercall.ImplCpu;
import dev.jvmm.core.hypercall.sdei.SdeiEventSpec;
import dev.jvmm.core.net.MacAddress;
import dev.jvmm.core.snapshot.GuestDefinition;
import dev.jvmm.core.snapshot.GuestDefinition.DiskIdentity;
import dev.jvmm.core.snapshot.GuestDefinition.NetDefinition;
import dev.jvmm.core.snapshot.SnapshotException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Between a machine's configuration and the {@link GuestDefinition} its snapshot holds: saving
 * records what the guest was given (the firmware as decided, not as asked); restoring turns it back
 * into the configuration that builds the same machine, with the firmware pinned to the saved
 * values.
 */
public final class SavedConfig {
    private SavedConfig() {}

    /** The guest-defining configuration of a paused machine; disks were flushed by the pause. */
    static GuestDefinition of(VmConfig c, VirtioConfig v, GuestFirmware fw) {
        Map<String, Long> bitmaps = new java.util.LinkedHashMap<>();
        fw.bitmaps().values().forEach((r, val) -> bitmaps.put(r.uapiName(), val));
        CpuFeatures cpu = c.cpu();
        HypercallConfig h = c.hypercalls();
        return new GuestDefinition(
                c.cpus(),
                c.memoryBytes(),
                c.cmdline(),
                cpu.irqchip().name(),
                cpu.pmu(),
                cpu.sve(),
                cpu.ptrauth(),
                fw.psci().toString(),
                bitmaps,
                fw.pvTime(),
                h.sdei(),
                h.sdeiEvents().stream().map(SdeiEventSpec::toString).toList(),
                h.deny().stream().map(FunctionRange::toString).toList(),
                h.sharedRegions(),
                h.implCpus().stream().map(ImplCpu::toString).toList(),
                v.disks().stream().map(d -> identity(d.path(), d.readOnly())).toList(),
                v.nets().stream().map(n -> new NetDefinition(n.tap(), n.mac().toString())).toList(),
                v.rng(),
                v.consoleOnVirtio(),
                c.memLock());
    }

    static DiskIdentity identity(Path path, boolean readOnly) {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            Object key = a.fileKey();
            return new DiskIdentity(
                    path.toAbsolutePath().toString(),
                    readOnly,
                    a.size(),
                    nanos(a),
                    key == null ? null : key.toString());
        } catch (IOException e) {
            throw new SnapshotException(
                    JvmmException.Kind.HOST_ERROR,
                    "snapshot: disk " + path + ": cannot read its attributes: " + e.getMessage(),
                    e);
        }
    }

    private static long nanos(BasicFileAttributes a) {
        return a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /**
     * The run request that rebuilds the saved guest; only host-side choices come from the
     * destination's command line.
     *
     * @param memLock --mem-lock on the destination (the saved flag is kept either way)
     */
    public static VmConfig toConfig(
            GuestDefinition g,
            VmConfig.OnReset onReset,
            Duration timeout,
            OutputStream consoleOut,
            boolean memLock) {
        String where = "snapshot: guest configuration";
        try {
            CpuFeatures.Irqchip irqchip = CpuFeatures.Irqchip.valueOf(g.irqchip());
            if (irqchip == CpuFeatures.Irqchip.AUTO)
                throw new IllegalArgumentException("irqchip AUTO is never saved");
            FirmwareConfig fw =
                    new FirmwareConfig(
                            HypercallSelection.ALL, g.pvTime(), PsciVersion.parse(g.psci()));
            HypercallConfig h =
                    new HypercallConfig(
                            g.sdei(),
                            g.sdeiEvents().stream().map(SdeiEventSpec::parse).toList(),
                            g.smcccDeny().stream().map(FunctionRange::parse).toList(),
                            g.sharedRegions(),
                            g.implCpus() == null
                                    ? List.of()
                                    : g.implCpus().stream().map(ImplCpu::parse).toList());
            return new VmConfig(
                    Objects.requireNonNull(g.cmdline(), "cmdline"),
                    g.cpus(),
                    g.memoryBytes(),
                    onReset,
                    timeout,
                    consoleOut,
                    fw,
                    memLock || g.memLock(),
                    h,
                    new CpuFeatures(irqchip, g.pmu(), g.sve(), g.ptrauth(), false));
        } catch (IllegalArgumentException | NullPointerException | JvmmException e) {
            throw SnapshotException.invalid(where, String.valueOf(e.getMessage()));
        }
    }

    /**
     * The saved devices, reattached where they were; a disk that is no longer the file the guest
     * knew (size, identity or modification time changed) is refused.
     */
    public static VirtioConfig toVirtio(GuestDefinition g) {
        List<DiskConfig> disks =
                g.disks().stream()
                        .map(
                                d -> {
                                    Path p = Path.of(d.path());
                                    DiskConfig cfg = new DiskConfig(p, d.readOnly());
                                    DiskIdentity now = identity(p, d.readOnly());
                                    String changed = changed(d, now);
                                    if (changed != null) {
                                        throw new SnapshotException(
                                                JvmmException.Kind.USAGE,
                                                "cannot restore: disk "
                                                        + d.path()
                                                        + " "
                                                        + changed
                                                        + " since the snapshot; the guest's view of it would be wrong");
                                    }
                                    return cfg;
                                })
                        .toList();
        try {
            List<NetConfig> nets =
                    g.nets().stream()
                            .map(n -> new NetConfig(n.tap(), MacAddress.parse(n.mac())))
                            .toList();
            return new VirtioConfig(disks, nets, g.rng(), g.virtioConsole());
        } catch (IllegalArgumentException e) {
            throw SnapshotException.invalid("guest configuration", e.getMessage());
        }
    }

    /** What differs between the saved and the present disk; null when nothing does. */
    static String changed(DiskIdentity saved, DiskIdentity now) {
        if (saved.size() != now.size())
            return "changed size (" + saved.size() + " -> " + now.size() + " bytes)";
        if (!Objects.equals(saved.fileKey(), now.fileKey()))
            return "is another file (" + saved.fileKey() + " -> " + now.fileKey() + ")";
        if (saved.modifiedNanos() != now.modifiedNanos()) return "was modified";
        return null;
    }

    /**
     * The firmware as the guest had it: the saved PSCI version and bitmap values, written over this
     * host's defaults. {@link dev.jvmm.core.snapshot.RestoreCheck} has already made sure the host
     * can give them.
     */
    static GuestFirmware firmware(GuestDefinition g, HostFirmware host) {
        PsciVersion psci = PsciVersion.parse(g.psci());
        Optional<PsciVersion> write =
                host.psci() != null && !psci.equals(host.psci())
                        ? Optional.of(psci)
                        : Optional.empty();
        Map<BitmapRegister, Long> values = new EnumMap<>(BitmapRegister.class);
        for (BitmapRegister r : BitmapRegister.values()) {
            if (host.bitmap(r).isEmpty()) continue; // absent here: the saved value was 0
            Long saved = g.bitmaps().get(r.uapiName());
            values.put(r, saved != null ? saved : host.bitmap(r).getAsLong());
        }
        return new GuestFirmware(
                psci, write, new ServiceBitmaps(values, host.bitmaps()), g.pvTime());
    }
}
