package dev.jvmm.core.arch;

import dev.jvmm.core.fdt.FdtException;
import dev.jvmm.core.fdt.FdtNode;
import dev.jvmm.core.fdt.FdtWriter;
import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Builds the guest's device tree blob: the nodes a Linux arm64 guest on KVM needs to boot to a
 * console, shaped after kvmtool's arm/fdt.c so the guest sees the same machine
 * ("linux,dummy-virt"), plus whatever {@link FdtContributor}s add (virtio-mmio, SDEI).
 *
 * <pre>
 * / { compatible = "linux,dummy-virt"; #address-cells = #size-cells = <2>; interrupt-parent = &amp;gic;
 *   chosen { bootargs; stdout-path; linux,initrd-start/-end; rng-seed; kaslr-seed; }
 *   aliases { serial0 }   memory@80000000   cpus { cpu@N... }
 *   intc@3fff0000 (GICv3) { msi-controller@... (ITS, with --irqchip gicv3-its) }
 *   timer   psci   serial@1000000   ...contributors }
 * </pre>
 */
public final class DeviceTreeBuilder {
    /** The GIC's phandle, as in kvmtool (PHANDLE_GIC); contributors may reference it. */
    public static final int GIC_PHANDLE = 1;

    /**
     * The ITS's phandle (kvmtool's PHANDLE_MSI comes right after its GIC's), for a PCI host's
     * msi-parent.
     */
    public static final int ITS_PHANDLE = 2;

    /** The PL031's bus clock ({@link #pl031Rtc}). */
    public static final int APB_PCLK_PHANDLE = 3;

    /** The bus clock QEMU's virt machine describes for its PrimeCells; Linux only enables it. */
    public static final int APB_PCLK_HZ = 24_000_000;

    /** Device-tree interrupt trigger flags (dt-bindings/interrupt-controller/irq.h). */
    public static final int IRQ_TYPE_EDGE_RISING = 1;

    public static final int IRQ_TYPE_LEVEL_HIGH = 4;
    public static final int IRQ_TYPE_LEVEL_LOW = 8;

    /** First interrupt cell of the GIC binding. */
    public static final int GIC_SPI = 0;

    public static final int GIC_PPI = 1;

    /** 64 bytes is what Linux's own kexec and QEMU pass; the kernel credits it to the RNG pool. */
    public static final int RNG_SEED_BYTES = 64;

    /**
     * The 1.8432 MHz crystal of a PC UART: Linux derives the divisor from it (115200 = 1843200 /
     * 16).
     */
    public static final int UART_CLOCK_HZ = 1_843_200;

    /** KVM's PSCI 0.1 function IDs (KVM_PSCI_FN_BASE + n); 0.2+ uses the standard IDs instead. */
    static final int KVM_PSCI_FN_BASE = 0x95c1ba5e;

    private final RandomGenerator random;

    /**
     * Seeds from the host kernel's random source ({@link HostRandom}): the rng-seed and kaslr-seed
     * must be unpredictable to the guest's attackers.
     */
    public DeviceTreeBuilder() {
        this(new HostRandom());
    }

    /**
     * @param random source of rng-seed and kaslr-seed; inject a fixed one for reproducible blobs.
     */
    public DeviceTreeBuilder(RandomGenerator random) {
        this.random = Objects.requireNonNull(random, "random");
    }

    /** Node name of the console UART, also what stdout-path and aliases/serial0 point at. */
    public static String uartPath() {
        return String.format("/serial@%x", Layout.UART_BASE);
    }

    /**
     * Builds the blob.
     *
     * @throws FdtException if a contributor writes a bad tree or the blob exceeds {@link
     *     Layout#FDT_MAX_SIZE}
     */
    public byte[] build(DeviceTreeInput in) {
        Layout layout = in.layout();
        FdtWriter fdt = new FdtWriter();
        fdt.setBootCpuidPhys((int) (in.mpidrs().get(0) & DeviceTreeInput.MPIDR_AFFINITY_MASK));
        FdtNode root = fdt.beginNode("");
        fdt.propertyString("compatible", "linux,dummy-virt");
        fdt.propertyU32("#address-cells", 2);
        fdt.propertyU32("#size-cells", 2);
        fdt.propertyU32("interrupt-parent", GIC_PHANDLE);

        chosen(fdt, in);
        FdtNode aliases = fdt.beginNode("aliases");
        fdt.propertyString("serial0", uartPath()); // keeps the console ttyS0 whatever else appears
        fdt.endNode(aliases);
        memory(fdt, layout);
        cpus(fdt, in.mpidrs());
        gic(fdt, layout, in.its());
        timer(fdt);
        psci(fdt, in.psci());
        uart(fdt);
        for (FdtContributor c : in.extraNodes()) c.addNodes(fdt);

        fdt.endNode(root);
        byte[] blob = fdt.finish();
        if (blob.length > Layout.FDT_MAX_SIZE) {
            throw new FdtException(
                    FdtException.Kind.TOTAL_SIZE_TOO_LARGE,
                    String.format(
                            "guest device tree is %d bytes; arm64 Linux accepts at most %d",
                            blob.length, Layout.FDT_MAX_SIZE));
        }
        return blob;
    }

    private void chosen(FdtWriter fdt, DeviceTreeInput in) {
        FdtNode chosen = fdt.beginNode("chosen");
        // always, an empty line too: the guest gets exactly the command line it was given
        // (--nodefaults -p ''), and a program reading /chosen/bootargs finds it. Linux treats an
        // empty bootargs as none.
        fdt.propertyString("bootargs", in.bootargs());
        // always, whatever the command line says: how a guest without console= (or a bare-metal
        // program) finds its console; with --console virtio the UART is still there
        fdt.propertyString("stdout-path", uartPath());
        if (in.hasInitrd()) {
            // u64 cells: the arm64 kernel reads them with the root's address size
            fdt.propertyU64("linux,initrd-start", in.initrdStart());
            fdt.propertyU64("linux,initrd-end", in.initrdEnd());
        }
        byte[] seed = new byte[RNG_SEED_BYTES];
        random.nextBytes(seed);
        fdt.property("rng-seed", seed);
        fdt.propertyU64("kaslr-seed", random.nextLong());
        fdt.endNode(chosen);
    }

    private static void memory(FdtWriter fdt, Layout layout) {
        FdtNode mem = fdt.beginNode(String.format("memory@%x", layout.ramBase()));
        fdt.propertyString("device_type", "memory");
        fdt.propertyArrayU64("reg", layout.ramBase(), layout.ramBytes());
        fdt.endNode(mem);
    }

    /**
     * {@code reg} is the MPIDR affinity, which is what PSCI CPU_ON takes and how Linux matches the
     * running CPU to its node. One cell suffices unless some vCPU has a non-zero Aff3.
     */
    private static void cpus(FdtWriter fdt, List<Long> mpidrs) {
        boolean twoCells = mpidrs.stream().anyMatch(m -> (m & 0xff_0000_0000L) != 0);
        FdtNode cpus = fdt.beginNode("cpus");
        fdt.propertyU32("#address-cells", twoCells ? 2 : 1);
        fdt.propertyU32("#size-cells", 0);
        for (long mpidr : mpidrs) {
            long reg = mpidr & DeviceTreeInput.MPIDR_AFFINITY_MASK;
            FdtNode cpu = fdt.beginNode(String.format("cpu@%x", reg));
            fdt.propertyString("device_type", "cpu");
            fdt.propertyString("compatible", "arm,arm-v8");
            fdt.propertyString("enable-method", "psci");
            if (twoCells) fdt.propertyU64("reg", reg);
            else fdt.propertyU32("reg", (int) reg);
            fdt.endNode(cpu);
        }
        fdt.endNode(cpus);
    }

    private static void gic(FdtWriter fdt, Layout layout, boolean its) {
        Layout.Region dist = layout.gicDist(), redist = layout.gicRedist();
        FdtNode gic = fdt.beginNode(String.format("intc@%x", dist.base()));
        fdt.propertyString("compatible", "arm,gic-v3");
        fdt.propertyU32("#interrupt-cells", 3);
        if (its) {
            // the ITS child's reg is in the parent's (root's) address space: 2+2 cells and an
            // empty ranges, an identity mapping (as kvmtool and QEMU write it)
            fdt.propertyU32("#address-cells", 2);
            fdt.propertyU32("#size-cells", 2);
            fdt.propertyNull("ranges");
        } else {
            // no children and no interrupt-map: 0 address cells, which dtc's interrupt_provider
            // check wants stated
            fdt.propertyU32("#address-cells", 0);
        }
        fdt.propertyNull("interrupt-controller");
        fdt.propertyArrayU64("reg", dist.base(), dist.size(), redist.base(), redist.size());
        fdt.propertyPhandle(GIC_PHANDLE);
        if (its) its(fdt, layout.gicIts());
        fdt.endNode(gic);
    }

    /**
     * The ITS as the arm,gic-v3 binding describes it: one msi-cell, the requester's device ID,
     * which is what KVM_MSI_VALID_DEVID carries.
     */
    private static void its(FdtWriter fdt, Layout.Region frame) {
        FdtNode its = fdt.beginNode(String.format("msi-controller@%x", frame.base()));
        fdt.propertyString("compatible", "arm,gic-v3-its");
        fdt.propertyNull("msi-controller");
        fdt.propertyU32("#msi-cells", 1);
        fdt.propertyArrayU64("reg", frame.base(), frame.size());
        fdt.propertyPhandle(ITS_PHANDLE);
        fdt.endNode(its);
    }

    /**
     * The four architected timer PPIs in binding order. Level-low and no CPU mask, as kvmtool
     * describes them for a GICv3 (the mask field is GICv2-only); KVM's timers are level-sensitive.
     */
    private static void timer(FdtWriter fdt) {
        FdtNode timer = fdt.beginNode("timer");
        fdt.propertyStringList("compatible", "arm,armv8-timer", "arm,armv7-timer");
        int[] ppis = {
            Layout.TIMER_PPI_SECURE_PHYS,
            Layout.TIMER_PPI_NONSECURE_PHYS,
            Layout.TIMER_PPI_VIRT,
            Layout.TIMER_PPI_HYP_PHYS
        };
        int[] cells = new int[ppis.length * 3];
        for (int i = 0; i < ppis.length; i++) {
            cells[3 * i] = GIC_PPI;
            cells[3 * i + 1] = ppis[i];
            cells[3 * i + 2] = IRQ_TYPE_LEVEL_LOW;
        }
        fdt.propertyArrayU32("interrupts", cells);
        // the counter keeps counting in every power state KVM gives a vCPU
        fdt.propertyNull("always-on");
        fdt.endNode(timer);
    }

    private static void psci(FdtWriter fdt, PsciVersion version) {
        FdtNode psci = fdt.beginNode("psci");
        fdt.propertyStringList("compatible", version.compatibles());
        fdt.propertyString("method", "hvc"); // KVM traps HVC from EL1; there is no EL3 to SMC to
        if (version.needsFunctionIds()) {
            fdt.propertyU32("cpu_suspend", KVM_PSCI_FN_BASE);
            fdt.propertyU32("cpu_off", KVM_PSCI_FN_BASE + 1);
            fdt.propertyU32("cpu_on", KVM_PSCI_FN_BASE + 2);
            fdt.propertyU32("migrate", KVM_PSCI_FN_BASE + 3);
        }
        fdt.endNode(psci);
    }

    /**
     * What Linux's of_serial (8250_of) needs: compatible, reg, interrupts, clock-frequency; byte
     * registers.
     */
    private static void uart(FdtWriter fdt) {
        FdtNode uart = fdt.beginNode(uartPath().substring(1));
        fdt.propertyString("compatible", "ns16550a");
        fdt.propertyArrayU64("reg", Layout.UART_BASE, Layout.UART_SIZE);
        fdt.propertyArrayU32("interrupts", spiInterrupt(Layout.UART_INTID, IRQ_TYPE_LEVEL_HIGH));
        fdt.propertyU32("clock-frequency", UART_CLOCK_HZ);
        fdt.endNode(uart);
    }

    /**
     * The PL031 RTC and the fixed clock its AMBA bus node wants: Linux's AMBA bus reads the
     * PrimeCell IDs only after enabling the device's "apb_pclk", so without a clock the RTC is
     * never probed. Shaped after QEMU's virt machine.
     */
    public static FdtContributor pl031Rtc(Layout.Region window, int intid) {
        return fdt -> {
            FdtNode clk = fdt.beginNode("apb-pclk");
            fdt.propertyString("compatible", "fixed-clock");
            fdt.propertyU32("#clock-cells", 0);
            fdt.propertyU32("clock-frequency", APB_PCLK_HZ);
            fdt.propertyString("clock-output-names", "clk24mhz");
            fdt.propertyPhandle(APB_PCLK_PHANDLE);
            fdt.endNode(clk);
            FdtNode rtc = fdt.beginNode(String.format("rtc@%x", window.base()));
            fdt.propertyStringList("compatible", "arm,pl031", "arm,primecell");
            fdt.propertyArrayU64("reg", window.base(), window.size());
            fdt.propertyArrayU32("interrupts", spiInterrupt(intid, IRQ_TYPE_LEVEL_HIGH));
            fdt.propertyU32("clocks", APB_PCLK_PHANDLE);
            fdt.propertyString("clock-names", "apb_pclk");
            fdt.endNode(rtc);
        };
    }

    /** The three GIC interrupt cells of an SPI INTID. */
    public static int[] spiInterrupt(int intid, int trigger) {
        return new int[] {GIC_SPI, Layout.spiNumber(intid), trigger};
    }

    /**
     * A virtio-mmio transport node, as kvmtool writes it (edge-triggered: the device raises the
     * line once per notification; dma-coherent: guest RAM is ordinary cacheable memory to the
     * host).
     */
    public static FdtContributor virtioMmio(Layout.Region slot, int intid) {
        return fdt -> {
            FdtNode n = fdt.beginNode(String.format("virtio_mmio@%x", slot.base()));
            fdt.propertyString("compatible", "virtio,mmio");
            fdt.propertyArrayU64("reg", slot.base(), slot.size());
            fdt.propertyNull("dma-coherent");
            fdt.propertyArrayU32("interrupts", spiInterrupt(intid, IRQ_TYPE_EDGE_RISING));
            fdt.endNode(n);
        };
    }
}
