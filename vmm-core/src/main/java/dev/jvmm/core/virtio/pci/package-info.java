/**
 * virtio-pci, modern (virtio 1.x spec 4.1): a PCI function per device whose vendor capabilities
 * point into one memory BAR holding the common configuration, the notification addresses, the ISR
 * and the device configuration, decoded onto the transport-neutral {@link
 * dev.jvmm.core.virtio.VirtioCore}.
 */
package dev.jvmm.core.virtio.pci;
