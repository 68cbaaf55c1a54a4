package dev.jvmm.core.arch.aarch64;

import java.util.Objects;

/**
 * What the user asked of the virtual CPUs and their interrupt controller (validated input; nothing
 * here touches KVM). Whether the host can honour it is decided when the VM is built.
 *
 * @param irqchip the in-kernel interrupt controller
 * @param pmu PMUv3 on every vCPU (--pmu); refused where the host has none
 * @param sve SVE where KVM offers it (on unless --disable-sve)
 * @param ptrauth address and generic pointer authentication where KVM offers them (on unless
 *     --disable-ptrauth)
 * @param mte memory tagging (--mte); refused where the host has none
 */
public record CpuFeatures(Irqchip irqchip, boolean pmu, boolean sve, boolean ptrauth, boolean mte) {
    /**
     * kvmtool's defaults: its automatic irqchip, no PMU, SVE and pointer authentication where
     * offered, no MTE.
     */
    public static final CpuFeatures DEFAULT =
            new CpuFeatures(Irqchip.AUTO, false, true, true, false);

    public CpuFeatures {
        Objects.requireNonNull(irqchip, "irqchip");
    }

    /** The same features with another interrupt controller (once {@code AUTO} is decided). */
    public CpuFeatures withIrqchip(Irqchip chosen) {
        return new CpuFeatures(chosen, pmu, sve, ptrauth, mte);
    }

    /** The in-kernel interrupt controllers jvmm can create. */
    public enum Irqchip {
        /**
         * kvmtool's automatic choice, decided when the VM exists ({@code VgicV3.choose}): GICv3
         * with an ITS when virtio devices sit on PCI and the host's KVM has an ITS, GICv3
         * otherwise. Never saved: a snapshot records what was chosen.
         */
        AUTO,
        /** A GICv3 distributor and one redistributor per vCPU. */
        GICV3,
        /** GICv3 plus an ITS, for MSIs. */
        GICV3_ITS,
        /** GICv2 (kvmtool's spelling is accepted); whether it can be built is the host's call. */
        GICV2
    }
}
