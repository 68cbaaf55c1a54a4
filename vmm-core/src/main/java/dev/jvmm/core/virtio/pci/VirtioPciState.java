package dev.jvmm.core.virtio.pci;

import dev.jvmm.core.pci.PciFunctionState;
import dev.jvmm.core.virtio.VirtioState;

/**
 * What a snapshot keeps of a {@link VirtioPciTransport}: its PCI function's config space (command,
 * BAR0 where the guest placed it, interrupt line; capability state nests there) and the virtio part
 * every transport shares — status, features, the common configuration's device_feature_select,
 * driver_feature_select and queue_select, the ISR bits not yet read, the config generation, each
 * queue and the device's own state.
 *
 * @param function the PCI function's config space as the guest programmed it
 * @param virtio the virtio core, its selectors and its device
 * @param msix the MSI-X table, PBA and the queues' and configuration's vectors; null (absent) on a
 *     function without MSI-X, and in snapshots written before MSI-X existed
 */
public record VirtioPciState(
        PciFunctionState function, VirtioState virtio, VirtioPciMsixState msix) {
    /** A function without MSI-X. */
    public VirtioPciState(PciFunctionState function, VirtioState virtio) {
        this(function, virtio, null);
    }
}
