package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jvmm.core.JvmmException;
import dev.jvmm.core.snapshot.GuestDefinition;
import dev.jvmm.core.snapshot.GuestDefinition.DiskIdentity;
import dev.jvmm.core.snapshot.GuestDefinition.NetDefinition;
import dev.jvmm.core.snapshot.GuestDefinition.PciFunctionDefinition;
import dev.jvmm.core.snapshot.SnapshotException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A restore's PCI layout check, before anything is built: the functions this jvmm builds for the
 * saved devices must be the snapshot's, or the restore is one line, exit 2.
 */
class SavedPciLayoutTest {
    private static final Path DIR = Path.of("/snap");

    /** A disk and a NIC with rng: 00:00.0 blk, 00:01.0 net, 00:02.0 rng. */
    private static GuestDefinition guest(String transport, List<PciFunctionDefinition> pci) {
        return new GuestDefinition(
                1,
                64L << 20,
                "",
                "GICV3",
                false,
                false,
                false,
                "1.1",
                Map.of(),
                true,
                false,
                List.of(),
                List.of(),
                false,
                List.of(),
                List.of(new DiskIdentity("/d.img", false, 4096, 0, null)),
                List.of(new NetDefinition("tap0", "52:54:00:12:34:56")),
                true,
                false,
                false,
                transport,
                pci);
    }

    private static List<PciFunctionDefinition> built() {
        return List.of(
                new PciFunctionDefinition("00:00.0", 0x1af4, 0x1042, List.of(0x8000L)),
                new PciFunctionDefinition("00:01.0", 0x1af4, 0x1041, List.of(0x8000L)),
                new PciFunctionDefinition("00:02.0", 0x1af4, 0x1044, List.of(0x8000L)));
    }

    private static void refused(GuestDefinition g, String message) {
        SnapshotException e =
                assertThrows(SnapshotException.class, () -> SavedPciLayout.check(DIR, g));
        assertEquals(JvmmException.Kind.USAGE, e.errorKind());
        assertEquals(message, e.getMessage());
    }

    @Test
    void theLayoutThisJvmmBuildsForTheSavedDevicesPasses() {
        SavedPciLayout.check(DIR, guest("pci", built()));
        assertEquals(built(), VirtioDevices.pciLayout(VirtioConfig.deviceTypes(1, 1, true, false)));
    }

    @Test
    void aSnapshotFromBeforePciSnapshotsIsVirtioMmio() {
        SavedPciLayout.check(DIR, guest(null, null));
        SavedPciLayout.check(DIR, guest("mmio", List.of()));
        assertEquals(VirtioTransportKind.MMIO, SavedConfig.transport(guest(null, null)));
        assertEquals(VirtioTransportKind.PCI, SavedConfig.transport(guest("pci", built())));
    }

    private static List<PciFunctionDefinition> with(int i, PciFunctionDefinition f) {
        List<PciFunctionDefinition> l = new ArrayList<>(built());
        if (f == null) l.remove(i);
        else if (i == l.size()) l.add(f);
        else l.set(i, f);
        return l;
    }

    @Test
    void aLayoutThatDoesNotMatchIsOneLineNamingTheFunction() {
        String start = "cannot restore /snap: its PCI layout does not match: ";
        refused(
                guest(
                        "pci",
                        with(
                                1,
                                new PciFunctionDefinition(
                                        "00:01.0", 0x1af4, 0x1042, List.of(0x8000L)))),
                start
                        + "the snapshot has 00:01.0 1af4:1042 BARs [0x8000] where this jvmm builds"
                        + " 00:01.0 1af4:1041 BARs [0x8000]");
        refused(
                guest(
                        "pci",
                        with(
                                2,
                                new PciFunctionDefinition(
                                        "00:02.0", 0x1af4, 0x1044, List.of(0x4000L)))),
                start
                        + "the snapshot has 00:02.0 1af4:1044 BARs [0x4000] where this jvmm builds"
                        + " 00:02.0 1af4:1044 BARs [0x8000]");
        refused(
                guest(
                        "pci",
                        with(
                                0,
                                new PciFunctionDefinition(
                                        "00:05.0", 0x1af4, 0x1042, List.of(0x8000L)))),
                start
                        + "the snapshot has 00:05.0 1af4:1042 BARs [0x8000] where this jvmm builds"
                        + " 00:00.0 1af4:1042 BARs [0x8000]");
        refused(
                guest("pci", with(2, null)),
                start
                        + "this jvmm builds 00:02.0 1af4:1044 BARs [0x8000] for its devices, which the"
                        + " snapshot lacks");
        refused(
                guest(
                        "pci",
                        with(
                                3,
                                new PciFunctionDefinition(
                                        "00:03.0", 0x1af4, 0x1043, List.of(0x8000L)))),
                start
                        + "the snapshot has 00:03.0 1af4:1043 BARs [0x8000], for which its devices"
                        + " make no function here");
        refused(
                guest("pci", null),
                start
                        + "this jvmm builds 00:00.0 1af4:1042 BARs [0x8000] for its devices, which the snapshot lacks");
        refused(
                guest(
                        "pci",
                        with(
                                0,
                                new PciFunctionDefinition(
                                        "00:00.0\n\u001b[2J" + "x".repeat(40),
                                        0x1af4,
                                        0x1042,
                                        null))),
                start
                        + "the snapshot has 00:00.0??[2Jxxxxxxxxxxxx... 1af4:1042 BARs missing where"
                        + " this jvmm builds 00:00.0 1af4:1042 BARs [0x8000]");
    }

    @Test
    void anEmptyEntryIsNamed() {
        List<PciFunctionDefinition> l = new ArrayList<>(built());
        l.add(null);
        refused(
                guest("pci", l),
                "cannot restore /snap: its PCI layout does not match: its PCI function 3 is empty");
    }

    @Test
    void theTransportMustBeKnownAndAnMmioGuestHasNoPciFunctions() {
        refused(
                guest("mmio", built()),
                "cannot restore /snap: its guest is on virtio-mmio but the snapshot lists PCI functions");
        refused(
                guest("pcie", built()),
                "snapshot: guest configuration: virtioTransport \"pcie\" is not mmio or pci");
    }
}
