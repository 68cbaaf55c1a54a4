/**
 * PCI for virtio-pci: an ECAM host bridge on bus 0 ({@link dev.jvmm.core.pci.PciEcam}), type-0
 * config headers with one memory BAR ({@link dev.jvmm.core.pci.PciHeader}) and the rule for where a
 * guest may place a BAR ({@link dev.jvmm.core.pci.BarWindow}). Every access is guest input: wrong
 * sizes, unaligned offsets and absent functions read as all ones and write nothing.
 */
package dev.jvmm.core.pci;
