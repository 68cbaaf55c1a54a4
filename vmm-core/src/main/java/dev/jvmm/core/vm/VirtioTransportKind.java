package dev.jvmm.core.vm;

/** How virtio devices reach the guest ({@code --virtio-transport}). */
public enum VirtioTransportKind {
    /** virtio-mmio 2 (modern), one register window and SPI per device. */
    MMIO,
    /** virtio-pci modern behind an ECAM host bridge, INTx on an SPI per device. */
    PCI;

    /** The spelling on the command line. */
    public String cliName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
