package dev.jvmm.core.arch;

import dev.jvmm.core.boot.BootImageException;
import dev.jvmm.core.boot.BootPlacement;
import dev.jvmm.core.boot.InitrdFile;
import dev.jvmm.core.boot.KernelImage;
import dev.jvmm.core.boot.KernelLoader;
import java.util.ArrayList;
import java.util.List;

/**
 * The arm64 guest physical address map, in one place. It follows kvmtool's arm64 map ({@code
 * arm/include/arm-common/kvm-arch.h}) address for address, so kernel command lines ({@code
 * earlycon=uart,mmio,0x1000000}), {@code virtio_mmio.devices=} strings and scripts written for
 * kvmtool guests keep working:
 *
 * <pre>
 *   0x0000_0000  64 KiB   (PCI I/O in kvmtool; unused, left unmapped)
 *   0x0100_0000  8 B      8250 UART, ttyS0 (kvmtool reserves 64 KiB for 4 UARTs 4 KiB apart)
 *   0x0101_0000  4 KiB    PL031 RTC (kvmtool's RTC slot, 64 KiB reserved: one PrimeCell window used)
 *   0x0102_0000  64 KiB   PV-time structures, 64 bytes per vCPU (RAM the host writes, not MMIO)
 *   0x0200_0000  16 MiB   CFI flash in kvmtool (reserved)
 *   0x0300_0000  ...      virtio-mmio devices, 0x200 bytes each, up to the lowest ITS base
 *   ...          128 KiB  GICv3 ITS (reserved; created with --irqchip gicv3-its), right below the
 *                         redistributors: 0x3ffb_0000 for 1 vCPU, 0x3bfd_0000 for 512
 *   0x3bff_0000  ...      GICv3 redistributors, 128 KiB per vCPU, growing down from the distributor
 *   0x3fff_0000  64 KiB   GICv3 distributor
 *   0x4000_0000  256 MiB  PCI ECAM config space (kvmtool's; bus 0 used), with --virtio-transport pci
 *   0x5000_0000  768 MiB  PCI 32-bit memory window, where the guest places BARs (kvmtool's)
 *   0x8000_0000  ramBytes RAM
 * </pre>
 *
 * Interrupts use GIC INTIDs (SPIs from 32, PPIs 16-31); {@link #spiNumber} and {@link #ppiNumber}
 * give the numbers a device tree wants. Immutable.
 */
public final class Layout {
    public static final long KIB = 1024, MIB = 1024 * KIB, GIB = 1024 * MIB;

    // ---- RAM
    // --------------------------------------------------------------------------------------
    public static final long RAM_BASE = 0x8000_0000L;

    /**
     * 2 MiB granularity: kernel base and DTB block are 2 MiB aligned, and THP/hugetlbfs back RAM.
     */
    public static final long RAM_ALIGN = 2 * MIB;

    /** Room for a small kernel plus the 2 MiB DTB block; real guests want far more. */
    public static final long MIN_RAM_BYTES = 16 * MIB;

    /**
     * KVM's default IPA space is 40 bits (KVM_VM_TYPE 0); staying inside it means the VM needs no
     * KVM_VM_TYPE_ARM_IPA_SIZE, which older hosts and some SoCs with small PA ranges lack.
     */
    public static final int MAX_IPA_BITS = 40;

    public static final long MAX_RAM_BYTES = (1L << MAX_IPA_BITS) - RAM_BASE;

    /** The DTB's whole 2 MiB block; equal to {@link KernelLoader#DTB_MAX_SIZE} by construction. */
    public static final long FDT_MAX_SIZE = KernelLoader.DTB_MAX_SIZE;

    // ---- low MMIO
    // ---------------------------------------------------------------------------------
    public static final long UART_BASE = 0x0100_0000L;

    /** Eight byte-wide 16550 registers (reg-shift 0), as kvmtool describes them. */
    public static final long UART_SIZE = 8;

    /**
     * kvmtool's RTC slot, right after the UARTs and below everything that grows: the PL031 uses the
     * first 4 KiB of it and the rest stays a hole.
     */
    public static final long RTC_BASE = 0x0101_0000L;

    public static final long RTC_SIZE = 0x1_0000L;

    /** One PrimeCell register window, what the RTC's {@code reg} says and the bus maps. */
    public static final long RTC_WINDOW = 0x1000L;

    public static final long PVTIME_BASE = 0x0102_0000L;
    public static final long PVTIME_SIZE = 0x1_0000L;

    /** KVM's struct pvclock_vcpu_stolen_time is 64 bytes; vCPU n's copy is at base + 64 n. */
    public static final long PVTIME_STRUCT_SIZE = 64;

    public static final long FLASH_BASE = 0x0200_0000L;
    public static final long FLASH_SIZE = 0x100_0000L;

    // ---- GICv3
    // ------------------------------------------------------------------------------------
    public static final long GIC_DIST_SIZE = 0x1_0000L;
    public static final long GIC_DIST_BASE = 0x4000_0000L - GIC_DIST_SIZE;

    /** RD_base + SGI_base frames: two 64 KiB frames per vCPU. */
    public static final long GIC_REDIST_SIZE_PER_CPU = 0x2_0000L;

    /** KVM's arm64 KVM_MAX_VCPUS and VGIC_V3_MAX_CPUS; redistributor space is sized for it. */
    public static final int MAX_VCPUS = 512;

    /**
     * Lowest redistributor base for {@link #MAX_VCPUS}: the virtio window ends here for any vCPU
     * count.
     */
    public static final long GIC_REDIST_FLOOR = GIC_DIST_BASE - MAX_VCPUS * GIC_REDIST_SIZE_PER_CPU;

    /**
     * The ITS's control frame and translation frame (KVM_VGIC_V3_ITS_SIZE: two 64 KiB frames).
     * kvmtool puts it directly below the lowest redistributor, so it moves with the vCPU count.
     */
    public static final long GIC_ITS_SIZE = 0x2_0000L;

    /**
     * GITS_TRANSLATER, the MSI doorbell: in the second (translation) frame of the ITS. An MSI's
     * address is ITS base + this.
     */
    public static final long GITS_TRANSLATER_OFFSET = 0x1_0040L;

    /**
     * Interrupt lines the vGIC is created with (KVM_DEV_ARM_VGIC_GRP_NR_IRQS): 32 private + 96
     * SPIs. A multiple of 32 as KVM requires.
     */
    public static final int GIC_NR_IRQS = 128;

    // ---- virtio-mmio
    // ------------------------------------------------------------------------------
    public static final long VIRTIO_MMIO_BASE = FLASH_BASE + FLASH_SIZE;

    /**
     * kvmtool's VIRTIO_MMIO_IO_SIZE, so device n sits where kvmtool puts it. 0x100 bytes of
     * transport registers plus 0x100 of device config is more than blk/net/console/rng/vsock need;
     * Firecracker's 4 KiB slots only buy page isolation, which trapped MMIO does not need.
     */
    public static final long VIRTIO_MMIO_SLOT_SIZE = 0x200;

    /**
     * Below the ITS frame of a {@link #MAX_VCPUS} machine, so the window never meets the GIC
     * whatever the vCPU count and irqchip.
     */
    public static final long VIRTIO_MMIO_END = GIC_REDIST_FLOOR - GIC_ITS_SIZE;

    // ---- PCI (kvmtool's ARM_PCI_CFG_AREA and ARM_PCI_MMIO_AREA)
    // -----------------------------------------------------------------
    public static final long PCI_ECAM_BASE = 0x4000_0000L;

    /** 1 MiB per bus for 256 buses, as kvmtool reserves it; jvmm's devices are all on bus 0. */
    public static final long PCI_ECAM_SIZE = 0x1000_0000L;

    public static final long PCI_MEMORY_BASE = PCI_ECAM_BASE + PCI_ECAM_SIZE;

    /** The window runs up to RAM. */
    public static final long PCI_MEMORY_END = 0x8000_0000L;

    // ---- interrupts (GIC INTIDs)
    // ------------------------------------------------------------------
    public static final int SPI_BASE = 32;
    public static final int PPI_BASE = 16;

    /** ttyS0's line in kvmtool (which gives ttyS0-3 INTIDs 32-35); level-triggered, active high. */
    public static final int UART_INTID = 32;

    /**
     * The PL031's match interrupt, level-triggered: kvmtool's ttyS1 line, free because jvmm has one
     * UART; taking it keeps every virtio device on kvmtool's line and their count unchanged.
     */
    public static final int RTC_INTID = 33;

    /**
     * First virtio INTID: after kvmtool's four UART lines, so device n gets kvmtool's line.
     * Edge-triggered.
     */
    public static final int VIRTIO_FIRST_INTID = 36;

    public static final int MAX_VIRTIO_DEVICES = GIC_NR_IRQS - VIRTIO_FIRST_INTID;

    /**
     * Architected timer PPIs in the order arm,armv8-timer lists them: secure physical (29),
     * non-secure physical (30, KVM's default ptimer), virtual (27, KVM's default vtimer),
     * hypervisor physical (26). These are PPI numbers (INTID - 16), as the device tree wants them.
     */
    public static final int TIMER_PPI_SECURE_PHYS = 13;

    public static final int TIMER_PPI_NONSECURE_PHYS = 14;
    public static final int TIMER_PPI_VIRT = 11;
    public static final int TIMER_PPI_HYP_PHYS = 10;

    /** PMUv3 overflow interrupt (--pmu), kvmtool's KVM_ARM_PMUv3_PPI. */
    public static final int PMU_INTID = 23;

    /** A named guest physical range {@code [base, base + size)}. */
    public record Region(String name, long base, long size) {
        public long end() {
            return base + size;
        }

        public boolean contains(long address, long length) {
            return length >= 0 && address >= base && address <= end() - length;
        }

        public boolean overlaps(Region o) {
            return base < o.end() && o.base < end();
        }

        @Override
        public String toString() {
            return String.format("%s [0x%x, 0x%x)", name, base, end());
        }
    }

    private final long ramBytes;
    private final int cpus;

    /**
     * @param ramBytes guest RAM at {@link #RAM_BASE}: a multiple of 2 MiB, 16 MiB to {@link
     *     #MAX_RAM_BYTES}
     * @param cpus 1 to {@link #MAX_VCPUS}
     * @throws dev.jvmm.core.JvmmException (usage) with a message fit for the user when either is
     *     out of range
     */
    public Layout(long ramBytes, int cpus) {
        if (ramBytes < MIN_RAM_BYTES || ramBytes > MAX_RAM_BYTES || ramBytes % RAM_ALIGN != 0) {
            throw dev.jvmm.core.JvmmException.usage(
                    String.format(
                            "RAM size %d bytes: must be a multiple of 2 MiB between 16 MiB and %d GiB",
                            ramBytes, MAX_RAM_BYTES / GIB));
        }
        if (cpus < 1 || cpus > MAX_VCPUS) {
            throw dev.jvmm.core.JvmmException.usage(
                    String.format(
                            "%d vCPUs: must be between 1 and %d (KVM's limit with a GICv3)",
                            cpus, MAX_VCPUS));
        }
        this.ramBytes = ramBytes;
        this.cpus = cpus;
    }

    public long ramBase() {
        return RAM_BASE;
    }

    public long ramBytes() {
        return ramBytes;
    }

    public long ramEnd() {
        return RAM_BASE + ramBytes;
    }

    public int cpus() {
        return cpus;
    }

    public Region ram() {
        return new Region("ram", RAM_BASE, ramBytes);
    }

    public Region uart() {
        return new Region("uart", UART_BASE, UART_SIZE);
    }

    /** The RTC's register window (not the whole reserved slot). */
    public Region rtc() {
        return new Region("rtc", RTC_BASE, RTC_WINDOW);
    }

    public Region pvTime() {
        return new Region("pvtime", PVTIME_BASE, PVTIME_SIZE);
    }

    public Region gicDist() {
        return new Region("gic-dist", GIC_DIST_BASE, GIC_DIST_SIZE);
    }

    /**
     * One contiguous redistributor region for all vCPUs, directly below the distributor (kvmtool).
     */
    public Region gicRedist() {
        long size = cpus * GIC_REDIST_SIZE_PER_CPU;
        return new Region("gic-redist", GIC_DIST_BASE - size, size);
    }

    /**
     * The GICv3 ITS frame, directly below the redistributors (kvmtool's gic_msi_base); reserved in
     * every map, used only with --irqchip gicv3-its. 64 KiB aligned as KVM requires.
     */
    public Region gicIts() {
        return new Region("gic-its", gicRedist().base() - GIC_ITS_SIZE, GIC_ITS_SIZE);
    }

    public Region virtioWindow() {
        return new Region("virtio-mmio", VIRTIO_MMIO_BASE, VIRTIO_MMIO_END - VIRTIO_MMIO_BASE);
    }

    /** The PCI host bridge's ECAM config space. */
    public Region pciEcam() {
        return new Region("pci-ecam", PCI_ECAM_BASE, PCI_ECAM_SIZE);
    }

    /** The PCI host bridge's 32-bit memory window, where BARs go. */
    public Region pciMemory() {
        return new Region("pci-memory", PCI_MEMORY_BASE, PCI_MEMORY_END - PCI_MEMORY_BASE);
    }

    /** Where vCPU {@code cpu}'s stolen-time structure goes (KVM_ARM_VCPU_PVTIME_IPA). */
    public long pvTimeAddress(int cpu) {
        checkCpu(cpu);
        return PVTIME_BASE + cpu * PVTIME_STRUCT_SIZE;
    }

    /** The MMIO slot of the {@code index}-th virtio device, in registration order. */
    public Region virtioSlot(int index) {
        checkVirtio(index);
        return new Region(
                "virtio-mmio." + index,
                VIRTIO_MMIO_BASE + index * VIRTIO_MMIO_SLOT_SIZE,
                VIRTIO_MMIO_SLOT_SIZE);
    }

    /** The SPI INTID of the {@code index}-th virtio device. */
    public int virtioIntid(int index) {
        checkVirtio(index);
        return VIRTIO_FIRST_INTID + index;
    }

    /** Device-tree SPI number (second interrupt cell) of an SPI INTID. */
    public static int spiNumber(int intid) {
        if (intid < SPI_BASE || intid >= 1020)
            throw new IllegalArgumentException("INTID " + intid + " is not an SPI");
        return intid - SPI_BASE;
    }

    /** Device-tree PPI number of a PPI INTID. */
    public static int ppiNumber(int intid) {
        if (intid < PPI_BASE || intid >= SPI_BASE)
            throw new IllegalArgumentException("INTID " + intid + " is not a PPI");
        return intid - PPI_BASE;
    }

    /**
     * Smallest IPA size covering every address (kvmtool's rule, never below 32 bits), for
     * KVM_VM_TYPE_ARM_IPA_SIZE when the host supports it.
     */
    public int ipaBits() {
        return Math.max(32, 64 - Long.numberOfLeadingZeros(ramEnd() - 1));
    }

    /**
     * Plans kernel, initrd and DTB inside this RAM. The policy lives in {@link KernelLoader#plan}
     * (kernel at the lowest 2 MiB aligned base + text_offset, DTB in the top 2 MiB block of RAM
     * capped at the 1 GiB aligned 32 GiB window, initrd just below it, 64 KiB aligned) so there is
     * one rule, not two that can drift; this binds it to the map.
     */
    public BootPlacement planBoot(KernelImage kernel, InitrdFile initrd) throws BootImageException {
        return KernelLoader.plan(kernel, initrd, FDT_MAX_SIZE, RAM_BASE, ramBytes);
    }

    /** Every fixed region, sorted by address; pairwise disjoint (tested for every vCPU count). */
    public List<Region> regions() {
        List<Region> r =
                new ArrayList<>(
                        List.of(
                                uart(),
                                new Region("rtc", RTC_BASE, RTC_SIZE),
                                pvTime(),
                                new Region("flash", FLASH_BASE, FLASH_SIZE),
                                virtioWindow(),
                                gicIts(),
                                gicRedist(),
                                gicDist(),
                                pciEcam(),
                                pciMemory(),
                                ram()));
        r.sort((a, b) -> Long.compare(a.base(), b.base()));
        return List.copyOf(r);
    }

    /** True when {@code [address, address + length)} lies wholly in guest RAM. */
    public boolean isRam(long address, long length) {
        return ram().contains(address, length);
    }

    /** The fixed region holding {@code address}, or null for a hole. */
    public Region regionAt(long address) {
        for (Region r : regions()) if (r.contains(address, 1)) return r;
        return null;
    }

    /**
     * Throws unless {@code [address, address + length)} is guest RAM; {@code what} names it in the
     * message.
     */
    public void requireRam(String what, long address, long length) {
        if (!isRam(address, length)) {
            throw new IllegalArgumentException(
                    String.format(
                            "%s [0x%x, +0x%x) is not inside guest RAM [0x%x, 0x%x)",
                            what, address, length, RAM_BASE, ramEnd()));
        }
    }

    private void checkCpu(int cpu) {
        if (cpu < 0 || cpu >= cpus)
            throw new IndexOutOfBoundsException("vCPU " + cpu + " of " + cpus);
    }

    private static void checkVirtio(int index) {
        if (index < 0 || index >= MAX_VIRTIO_DEVICES) {
            throw new IndexOutOfBoundsException(
                    "virtio device "
                            + index
                            + ": at most "
                            + MAX_VIRTIO_DEVICES
                            + " (SPIs "
                            + VIRTIO_FIRST_INTID
                            + "-"
                            + (GIC_NR_IRQS - 1)
                            + ")");
        }
    }

    @Override
    public String toString() {
        return String.format("Layout[%d MiB RAM, %d vCPUs]", ramBytes / MIB, cpus);
    }
}
