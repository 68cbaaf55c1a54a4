package dev.jvmm.core.device;

/**
 * A level-triggered interrupt input (a GIC SPI via KVM_IRQ_LINE in real runs). Devices call it only
 * when the level changes, so every call is one edge and a recording fake can assert exactly that.
 */
@FunctionalInterface
public interface IrqLine {
    void set(boolean high);

    IrqLine NONE = high -> {};
}
