package dev.jvmm.core.pci;

/**
 * One PCI function's configuration space (4 KiB, as ECAM addresses it). The host bridge has already
 * checked that {@code size} is 1, 2 or 4 and that the access is naturally aligned inside the 4 KiB,
 * so implementations only model registers. Values are little-endian in the low {@code size} bytes.
 */
public interface PciFunction {
    int configRead(int offset, int size);

    void configWrite(int offset, int size, int value);
}
