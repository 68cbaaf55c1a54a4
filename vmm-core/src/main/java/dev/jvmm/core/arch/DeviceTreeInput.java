package dev.jvmm.core.arch;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything the guest device tree depends on besides the address map, gathered once the vCPUs
 * exist. Immutable and validated.
 *
 * @param layout the address map (RAM, GIC, UART)
 * @param mpidrs MPIDR_EL1 of each vCPU, index order, as read back from KVM
 * @param psci PSCI version KVM reports (KVM_REG_ARM_PSCI_VERSION)
 * @param bootargs kernel command line, without NUL; {@code /chosen/bootargs} even when empty
 * @param initrdStart first byte of the initrd; equal to {@code initrdEnd} when there is none
 * @param initrdEnd one past its last byte
 * @param extraNodes device nodes added after the built-in ones, in order
 * @param its whether the GIC node gets an ITS child ({@code arm,gic-v3-its} msi-controller at
 *     {@link Layout#gicIts()})
 */
public record DeviceTreeInput(
        Layout layout,
        List<Long> mpidrs,
        PsciVersion psci,
        String bootargs,
        long initrdStart,
        long initrdEnd,
        List<FdtContributor> extraNodes,
        boolean its) {
    /**
     * Affinity fields Aff3..Aff0 of MPIDR_EL1; the rest (U, MT, RES1 bit 31) is not the CPU's id.
     */
    public static final long MPIDR_AFFINITY_MASK = 0xff_00ff_ffffL;

    public DeviceTreeInput {
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(psci, "psci");
        Objects.requireNonNull(bootargs, "bootargs");
        mpidrs = List.copyOf(mpidrs);
        extraNodes = List.copyOf(extraNodes);
        if (mpidrs.size() != layout.cpus()) {
            throw new IllegalArgumentException(
                    String.format("%d MPIDRs for %d vCPUs", mpidrs.size(), layout.cpus()));
        }
        Set<Long> seen = new HashSet<>();
        for (long m : mpidrs) {
            if (!seen.add(m & MPIDR_AFFINITY_MASK)) {
                throw new IllegalArgumentException(
                        String.format("two vCPUs share affinity 0x%x", m & MPIDR_AFFINITY_MASK));
            }
        }
        if (initrdEnd < initrdStart) {
            throw new IllegalArgumentException(
                    String.format("initrd end 0x%x before start 0x%x", initrdEnd, initrdStart));
        }
        if (initrdEnd > initrdStart)
            layout.requireRam("initrd", initrdStart, initrdEnd - initrdStart);
    }

    /** No initrd, no extra nodes. */
    public static DeviceTreeInput of(
            Layout layout, List<Long> mpidrs, PsciVersion psci, String bootargs) {
        return new DeviceTreeInput(layout, mpidrs, psci, bootargs, 0, 0, List.of(), false);
    }

    public DeviceTreeInput withInitrd(long start, long end) {
        return new DeviceTreeInput(layout, mpidrs, psci, bootargs, start, end, extraNodes, its);
    }

    public DeviceTreeInput withExtraNodes(List<FdtContributor> nodes) {
        return new DeviceTreeInput(
                layout, mpidrs, psci, bootargs, initrdStart, initrdEnd, nodes, its);
    }

    /** The same input with an ITS under the GIC node. */
    public DeviceTreeInput withIts() {
        return new DeviceTreeInput(
                layout, mpidrs, psci, bootargs, initrdStart, initrdEnd, extraNodes, true);
    }

    public boolean hasInitrd() {
        return initrdEnd > initrdStart;
    }

    /**
     * The MPIDR KVM gives vCPU {@code index} unless userspace sets one (arch/arm64/kvm/sys_regs.c
     * reset_mpidr): Aff0 holds only 16 CPUs, the most a GICv3 SGI target list addresses directly.
     * For tests and planning; real runs read MPIDR_EL1 back from each vCPU.
     */
    public static long kvmDefaultMpidr(int index) {
        return (1L << 31)
                | ((long) ((index >> 12) & 0xff) << 16)
                | ((long) ((index >> 4) & 0xff) << 8)
                | (index & 0xf);
    }

    public static List<Long> kvmDefaultMpidrs(int cpus) {
        Long[] m = new Long[cpus];
        for (int i = 0; i < cpus; i++) m[i] = kvmDefaultMpidr(i);
        return List.of(m);
    }
}
