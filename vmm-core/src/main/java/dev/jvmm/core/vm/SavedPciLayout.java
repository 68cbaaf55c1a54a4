package dev.jvmm.core.vm;

import dev.jvmm.core.JvmmException.Kind;
import dev.jvmm.core.snapshot.GuestDefinition;
import dev.jvmm.core.snapshot.GuestDefinition.PciFunctionDefinition;
import dev.jvmm.core.snapshot.SnapshotException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A restore's check of the snapshot's PCI layout, before anything is built: the functions this jvmm
 * would build for the saved devices (address, IDs, BAR sizes) must be the ones the guest had, or
 * the guest's drivers would find other devices, or BARs of other sizes, where they left theirs.
 * Anything else is one line naming the first function that differs (exit 2).
 */
final class SavedPciLayout {
    private SavedPciLayout() {}

    /**
     * @throws SnapshotException {@link Kind#USAGE}: the transport is unknown, or the layout does
     *     not match
     */
    static void check(Path dir, GuestDefinition g) {
        VirtioTransportKind kind = SavedConfig.transport(g);
        List<PciFunctionDefinition> saved = g.pciFunctions() == null ? List.of() : g.pciFunctions();
        if (kind != VirtioTransportKind.PCI) {
            if (!saved.isEmpty())
                throw refused(
                        dir, "its guest is on virtio-mmio but the snapshot lists PCI functions");
            return;
        }
        List<PciFunctionDefinition> built =
                VirtioDevices.pciLayout(
                        VirtioConfig.deviceTypes(
                                g.disks() == null ? 0 : g.disks().size(),
                                g.nets() == null ? 0 : g.nets().size(),
                                g.rng(),
                                g.virtioConsole()));
        for (int i = 0; i < Math.max(built.size(), saved.size()); i++) {
            PciFunctionDefinition s = i < saved.size() ? saved.get(i) : null;
            PciFunctionDefinition b = i < built.size() ? built.get(i) : null;
            if (s != null && b != null && same(s, b)) continue;
            String what;
            if (i < saved.size() && s == null) what = "its PCI function " + i + " is empty";
            else if (s == null)
                what =
                        "this jvmm builds "
                                + b.describe()
                                + " for its devices, which the snapshot lacks";
            else if (b == null)
                what =
                        "the snapshot has "
                                + s.describe()
                                + ", for which its devices make no function here";
            else
                what =
                        "the snapshot has "
                                + s.describe()
                                + " where this jvmm builds "
                                + b.describe();
            throw refused(dir, "its PCI layout does not match: " + what);
        }
    }

    private static boolean same(PciFunctionDefinition a, PciFunctionDefinition b) {
        return Objects.equals(a.address(), b.address())
                && a.vendorId() == b.vendorId()
                && a.deviceId() == b.deviceId()
                && Objects.equals(a.barSizes(), b.barSizes());
    }

    private static SnapshotException refused(Path dir, String what) {
        return new SnapshotException(Kind.USAGE, "cannot restore " + dir + ": " + what);
    }
}
