/**
 * virtio 1.x devices on the virtio-mmio (version 2) and virtio-pci (modern, {@code pci} subpackage)
 * transports.
 *
 * <p>{@link dev.jvmm.core.virtio.VirtioCore} owns status, feature negotiation, ring set-up and
 * activation, and hands each {@link dev.jvmm.core.virtio.VirtioDevice} a {@link
 * dev.jvmm.core.virtio.VirtioActivation} at DRIVER_OK; it offers VERSION_1, RING_INDIRECT_DESC and
 * RING_EVENT_IDX on top of the device's bits. A transport only decodes its registers onto it:
 * {@link dev.jvmm.core.virtio.VirtioMmioTransport} is the {@link dev.jvmm.core.device.MmioDevice}
 * the platform maps (one {@link dev.jvmm.core.virtio.VirtioMmioTransport#REGION_SIZE} window per
 * device), {@link dev.jvmm.core.virtio.pci.VirtioPciTransport} a PCI function and its BAR.
 *
 * <p>Guest errors never throw out of this package. A malformed descriptor chain goes back to the
 * driver with length 0 and is counted under a {@link dev.jvmm.core.virtio.VirtioError}; ring
 * corruption that leaves nothing to give back (a head index ≥ queue size, avail.idx more than a
 * queue ahead), a guest-memory fault inside a device, or an unexpected device exception stops the
 * device with NEEDS_RESET (and a config interrupt) until the driver resets it. Register misuse is
 * ignored and counted.
 *
 * <p>Devices: {@code blk} (IN, OUT, FLUSH = fdatasync, GET_ID; read-only enforced; DISCARD and
 * WRITE_ZEROES not offered), {@code net} (MAC + STATUS, no offloads, no mergeable buffers), {@code
 * rng}, {@code console} (one port, no multiport).
 */
package dev.jvmm.core.virtio;
