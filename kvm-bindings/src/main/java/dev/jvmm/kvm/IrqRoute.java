package dev.jvmm.kvm;

/**
 * One entry of a VM's GSI routing table (KVM_SET_GSI_ROUTING): what KVM does when an irqfd bound to
 * {@link #gsi()} is signalled.
 */
public sealed interface IrqRoute {
    int gsi();

    /**
     * KVM_IRQ_ROUTING_IRQCHIP on arm64: the vGIC's SPI {@code pin} (INTID - 32), what KVM's default
     * table holds for every SPI as {@code gsi == pin}.
     */
    record Irqchip(int gsi, int pin) implements IrqRoute {}

    /**
     * KVM_IRQ_ROUTING_MSI: the write of {@code data} to {@code address} (an ITS doorbell), from
     * device {@code devid} when {@code validDevid} (KVM_MSI_VALID_DEVID, which a VM with an ITS
     * requires).
     */
    record Msi(int gsi, long address, int data, int devid, boolean validDevid)
            implements IrqRoute {}
}
