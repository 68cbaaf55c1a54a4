package dev.jvmm.core.virtio.pci;

import dev.jvmm.core.pci.MsixTable;
import java.util.List;

/**
 * What a snapshot keeps of a virtio-pci function's MSI-X ({@link VirtioPciMsix}): the table, its
 * PBA and Message Control bits, and the vector the driver gave each queue ({@code
 * queue_msix_vector}), then configuration changes ({@code msix_config}). The routes are rebuilt
 * from these on restore.
 *
 * @param table the MSI-X table's state
 * @param vectors per queue, then configuration; 0xffff is VIRTIO_MSI_NO_VECTOR
 */
public record VirtioPciMsixState(MsixTable.State table, List<Integer> vectors) {}
