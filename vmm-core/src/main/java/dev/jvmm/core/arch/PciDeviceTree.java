package dev.jvmm.core.arch;

import dev.jvmm.core.fdt.FdtNode;
import java.util.List;

/**
 * The device-tree node of the PCI host bridge, after the {@code pci-host-ecam-generic} binding and
 * kvmtool's arm/pci.c: ECAM config space, bus 0, one 32-bit memory range mapped 1:1, and an {@code
 * interrupt-map} giving each device's INTA# its own SPI. The SPIs are edge-triggered like
 * virtio-mmio's, because the VMM raises them through an irqfd, one edge per notification, and the
 * driver's ISR read acknowledges them. With an ITS, {@code msi-map} sends every requester ID to it
 * as the same device ID (what KVM_MSI_VALID_DEVID will carry once devices use MSI-X).
 */
public final class PciDeviceTree {
    private PciDeviceTree() {}

    /** PCI address space code of 32-bit memory, bits 25-24 of phys.hi. */
    private static final int SPACE_MEM32 = 0x0200_0000;

    /** One device on bus 0 and the INTID of its INTA#. */
    public record Intx(int device, int intid) {}

    public static FdtContributor hostBridge(Layout layout, List<Intx> devices, boolean its) {
        Layout.Region ecam = layout.pciEcam();
        Layout.Region mem = layout.pciMemory();
        return fdt -> {
            FdtNode n = fdt.beginNode(String.format("pci@%x", ecam.base()));
            fdt.propertyString("compatible", "pci-host-ecam-generic");
            fdt.propertyString("device_type", "pci");
            fdt.propertyU32("#address-cells", 3);
            fdt.propertyU32("#size-cells", 2);
            fdt.propertyU32("#interrupt-cells", 1);
            fdt.propertyArrayU32("bus-range", 0, 0);
            fdt.propertyArrayU64("reg", ecam.base(), ecam.size());
            fdt.propertyArrayU32(
                    "ranges",
                    SPACE_MEM32,
                    hi(mem.base()),
                    lo(mem.base()),
                    hi(mem.base()),
                    lo(mem.base()),
                    hi(mem.size()),
                    lo(mem.size()));
            fdt.propertyNull("dma-coherent");
            // the GIC's #address-cells: 2 when it has the ITS child, else 0
            int parentAddressCells = its ? 2 : 0;
            int[] map = new int[devices.size() * (4 + 1 + parentAddressCells + 3)];
            int i = 0;
            for (Intx d : devices) {
                map[i++] = d.device() << 11; // phys.hi: bus 0, device, function 0
                map[i++] = 0;
                map[i++] = 0;
                map[i++] = 1; // INTA#
                map[i++] = DeviceTreeBuilder.GIC_PHANDLE;
                i += parentAddressCells; // parent unit address 0
                int[] spi =
                        DeviceTreeBuilder.spiInterrupt(
                                d.intid(), DeviceTreeBuilder.IRQ_TYPE_EDGE_RISING);
                System.arraycopy(spi, 0, map, i, 3);
                i += 3;
            }
            fdt.propertyArrayU32("interrupt-map", map);
            fdt.propertyArrayU32("interrupt-map-mask", 0x1f << 11, 0, 0, 7);
            // the ITS takes one msi-cell, the device ID: msi-map gives it the requester ID 1:1
            // (pci-msi.txt), which a bare msi-parent cannot ("#msi-cells = 1 found 0" in Linux)
            if (its) fdt.propertyArrayU32("msi-map", 0, DeviceTreeBuilder.ITS_PHANDLE, 0, 0x1_0000);
            fdt.endNode(n);
        };
    }

    private static int hi(long v) {
        return (int) (v >>> 32);
    }

    private static int lo(long v) {
        return (int) v;
    }
}
