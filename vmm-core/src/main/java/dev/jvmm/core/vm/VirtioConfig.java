package dev.jvmm.core.vm;

import dev.jvmm.core.JvmmException;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.files.FileRoles;
import dev.jvmm.core.net.MacAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which virtio devices a VM gets. Checked as a whole: an image attached twice would be corrupted by
 * two caches (and the disk's image lock refuses it anyway), a tap can be attached only once, two
 * NICs with one MAC address confuse every switch, and there are only {@link
 * Layout#MAX_VIRTIO_DEVICES} interrupt lines.
 *
 * @param consoleOnVirtio the console is virtio-console (hvc0) instead of the 16550A (ttyS0)
 * @param transport virtio-mmio or virtio-pci
 */
public record VirtioConfig(
        List<DiskConfig> disks,
        List<NetConfig> nets,
        boolean rng,
        boolean consoleOnVirtio,
        VirtioTransportKind transport) {
    public static final VirtioConfig NONE = new VirtioConfig(List.of(), List.of(), false, false);

    /** The devices over virtio-mmio. */
    public VirtioConfig(
            List<DiskConfig> disks, List<NetConfig> nets, boolean rng, boolean consoleOnVirtio) {
        this(disks, nets, rng, consoleOnVirtio, VirtioTransportKind.MMIO);
    }

    public VirtioConfig {
        java.util.Objects.requireNonNull(transport, "transport");
        disks = List.copyOf(disks);
        nets = List.copyOf(nets);
        FileRoles files = new FileRoles();
        for (DiskConfig d : disks) files.add("--disk " + d.path(), d.path());
        Map<String, NetConfig> taps = new HashMap<>();
        Map<MacAddress, NetConfig> macs = new HashMap<>();
        for (NetConfig n : nets) {
            if (taps.put(n.tap(), n) != null)
                throw JvmmException.usage(
                        "tap " + n.tap() + " is given twice; a tap carries one NIC");
            NetConfig other = macs.put(n.mac(), n);
            if (other != null) {
                throw JvmmException.usage(
                        "MAC address "
                                + n.mac()
                                + " is used by the NICs on taps "
                                + other.tap()
                                + " and "
                                + n.tap());
            }
        }
        int count = count(disks, nets, rng, consoleOnVirtio);
        if (transport == VirtioTransportKind.PCI && count > dev.jvmm.core.pci.PciEcam.DEVICES) {
            throw JvmmException.usage(
                    count
                            + " virtio devices: at most "
                            + dev.jvmm.core.pci.PciEcam.DEVICES
                            + " fit PCI bus 0");
        }
        if (count > Layout.MAX_VIRTIO_DEVICES) {
            throw JvmmException.usage(
                    count
                            + " virtio devices: at most "
                            + Layout.MAX_VIRTIO_DEVICES
                            + " fit the interrupt lines");
        }
    }

    /** How many virtio-mmio transports (slots) the VM needs. */
    public int deviceCount() {
        return count(disks, nets, rng, consoleOnVirtio);
    }

    /**
     * The virtio device type of each slot, in slot order (as {@link VirtioDeviceFactory} opens
     * them).
     */
    public List<Integer> deviceTypes() {
        return deviceTypes(disks.size(), nets.size(), rng, consoleOnVirtio);
    }

    /** Slot order: disks, NICs, rng, console. */
    static List<Integer> deviceTypes(int disks, int nets, boolean rng, boolean console) {
        List<Integer> types = new java.util.ArrayList<>();
        for (int i = 0; i < disks; i++) types.add(dev.jvmm.core.virtio.Virtio.ID_BLOCK);
        for (int i = 0; i < nets; i++) types.add(dev.jvmm.core.virtio.Virtio.ID_NET);
        if (rng) types.add(dev.jvmm.core.virtio.Virtio.ID_RNG);
        if (console) types.add(dev.jvmm.core.virtio.Virtio.ID_CONSOLE);
        return List.copyOf(types);
    }

    private static int count(
            List<DiskConfig> disks, List<NetConfig> nets, boolean rng, boolean console) {
        return disks.size() + nets.size() + (rng ? 1 : 0) + (console ? 1 : 0);
    }
}
