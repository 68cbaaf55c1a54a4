package dev.jvmm.core.pci;

/**
 * One MSI: the write of {@code data} to {@code address} (for an ITS, GITS_TRANSLATER and the event
 * ID).
 */
public record MsiMessage(long address, int data) {}
