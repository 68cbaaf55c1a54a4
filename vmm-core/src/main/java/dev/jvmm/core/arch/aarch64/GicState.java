package dev.jvmm.core.arch.aarch64;

import java.util.List;

/**
 * The vGICv3's state in a snapshot (key {@code gic}; see {@link GicSnapshot}). Every register is 32
 * bits (64-bit ones such as GICD_IROUTER are two entries, low word first), except the CPU
 * interface's ICC system registers, which are 64 bits.
 *
 * @param nrIrqs interrupt lines (KVM_DEV_ARM_VGIC_GRP_NR_IRQS: 32 private ones plus the SPIs)
 * @param distributor GICD registers by offset
 * @param spiLevels LEVEL_INFO line levels of the SPIs: offset = the first interrupt ID of each
 *     group of 32, value = one bit per line
 * @param cpus one per vCPU, in vCPU order
 */
public record GicState(
        int nrIrqs,
        List<DeviceRegister> distributor,
        List<DeviceRegister> spiLevels,
        List<Cpu> cpus) {

    /**
     * One vCPU's redistributor and CPU interface.
     *
     * @param mpidr the vCPU's MPIDR_EL1, which names its redistributor and CPU interface
     * @param redistributor GICR registers by offset from RD_base (SGI_base ones at 0x10000 up)
     * @param ppiLevels LEVEL_INFO line levels of its SGIs and PPIs (interrupt IDs 0..31)
     * @param cpuInterface ICC system registers by their op0:op1:CRn:CRm:op2 encoding
     */
    public record Cpu(
            long mpidr,
            List<DeviceRegister> redistributor,
            int ppiLevels,
            List<DeviceRegister> cpuInterface) {}
}
