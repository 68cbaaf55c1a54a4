package dev.jvmm.core.pci;

/**
 * What a snapshot keeps of a {@link PciHeader}: every config-space field the guest can change. The
 * IDs, class, status and the capability list's layout are what the function was built as (the
 * snapshot's PCI layout pins them) and are not repeated here.
 *
 * <p>Capabilities with state of their own (MSI-X: its enable and mask bits, table and PBA) join
 * this record as one nested record each, named for the capability and absent (null) when the
 * function does not offer it; the vendor capabilities of virtio-pci are read-only and have none.
 *
 * @param command the command register: memory space, bus master and INTx disable, as written
 * @param bar0 BAR0 as the guest reads it (its address; the low bits below the BAR's size are 0), an
 *     unsigned 32-bit value
 * @param cacheLineSize the cache-line size register
 * @param interruptLine the interrupt line register (the guest's note; jvmm routes INTA# itself)
 */
public record PciFunctionState(int command, long bar0, int cacheLineSize, int interruptLine) {}
