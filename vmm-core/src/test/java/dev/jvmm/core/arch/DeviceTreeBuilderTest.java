package dev.jvmm.core.arch;

import static dev.jvmm.core.arch.Layout.GIB;
import static dev.jvmm.core.arch.Layout.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.fdt.Dtc;
import dev.jvmm.core.fdt.FdtException;
import dev.jvmm.core.fdt.FdtNode;
import dev.jvmm.core.fdt.FdtTestReader;
import dev.jvmm.core.fdt.FdtTestReader.Node;
import dev.jvmm.core.fdt.FdtTestReader.Tree;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DeviceTreeBuilderTest {
    private static final Layout LAYOUT = new Layout(2 * GIB, 3);
    private static final long INITRD_START = 0xf000_0000L, INITRD_END = 0xf123_4567L;

    private static DeviceTreeInput input(Layout layout, PsciVersion psci) {
        return DeviceTreeInput.of(
                layout,
                DeviceTreeInput.kvmDefaultMpidrs(layout.cpus()),
                psci,
                "console=ttyS0 earlycon");
    }

    private static Tree build(DeviceTreeInput in) {
        return FdtTestReader.parse(new DeviceTreeBuilder(new Random(42)).build(in));
    }

    @Test
    void rootDescribesAKvmtoolStyleMachine() {
        Node root = build(input(LAYOUT, PsciVersion.V1_1)).root();
        assertEquals("linux,dummy-virt", root.string("compatible"));
        assertEquals(2, root.u32("#address-cells"));
        assertEquals(2, root.u32("#size-cells"));
        assertEquals(DeviceTreeBuilder.GIC_PHANDLE, root.u32("interrupt-parent"));
        assertEquals(
                List.of(
                        "chosen",
                        "aliases",
                        "memory@80000000",
                        "cpus",
                        "intc@3fff0000",
                        "timer",
                        "psci",
                        "serial@1000000"),
                root.children().stream().map(Node::name).toList());
    }

    @Test
    void chosenCarriesCommandLineConsoleInitrdAndSeeds() {
        Tree t = build(input(LAYOUT, PsciVersion.V1_1).withInitrd(INITRD_START, INITRD_END));
        Node chosen = t.node("/chosen");
        assertEquals("console=ttyS0 earlycon", chosen.string("bootargs"));
        assertEquals("/serial@1000000", chosen.string("stdout-path"));
        assertEquals("/serial@1000000", t.node("/aliases").string("serial0"));
        t.node(chosen.string("stdout-path")); // the path resolves
        assertEquals(INITRD_START, chosen.u64("linux,initrd-start"));
        assertEquals(INITRD_END, chosen.u64("linux,initrd-end"));
        Random expected = new Random(42);
        byte[] seed = new byte[64];
        expected.nextBytes(seed);
        assertArrayEquals(seed, chosen.prop("rng-seed"));
        assertEquals(expected.nextLong(), chosen.u64("kaslr-seed"));
    }

    /**
     * Without an initrd its range is absent; an empty command line is an empty bootargs (one NUL),
     * so the guest gets exactly the line it was given, and stdout-path still names the console.
     */
    @Test
    void withoutInitrdItsRangeIsAbsentAndAnEmptyCommandLineIsAnEmptyBootargs() {
        DeviceTreeInput in =
                DeviceTreeInput.of(
                        LAYOUT, DeviceTreeInput.kvmDefaultMpidrs(3), PsciVersion.V1_1, "");
        Tree t = build(in);
        Node chosen = t.node("/chosen");
        assertFalse(chosen.has("linux,initrd-start"));
        assertFalse(chosen.has("linux,initrd-end"));
        assertArrayEquals(new byte[] {0}, chosen.prop("bootargs"));
        assertEquals("/serial@1000000", chosen.string("stdout-path"));
        t.node(chosen.string("stdout-path"));
    }

    /** Whatever bytes the command line holds reach /chosen/bootargs unchanged, NUL-terminated. */
    @Test
    void bootargsAreTheCommandLineByteForByte() {
        String line = "  a  \"b c\"\t'd'=é;$X \\ end  ";
        DeviceTreeInput in =
                DeviceTreeInput.of(
                        LAYOUT, DeviceTreeInput.kvmDefaultMpidrs(3), PsciVersion.V1_1, line);
        byte[] utf8 = line.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] expected = Arrays.copyOf(utf8, utf8.length + 1);
        assertArrayEquals(expected, build(in).node("/chosen").prop("bootargs"));
    }

    @Test
    void sameRandomSourceGivesSameBlobAndSeedsDiffer() {
        DeviceTreeInput in = input(LAYOUT, PsciVersion.V1_1);
        assertArrayEquals(
                new DeviceTreeBuilder(new Random(7)).build(in),
                new DeviceTreeBuilder(new Random(7)).build(in));
        byte[] a =
                FdtTestReader.parse(new DeviceTreeBuilder(new Random(7)).build(in))
                        .node("/chosen")
                        .prop("rng-seed");
        byte[] b =
                FdtTestReader.parse(new DeviceTreeBuilder(new Random(8)).build(in))
                        .node("/chosen")
                        .prop("rng-seed");
        assertFalse(Arrays.equals(a, b));
    }

    @Test
    void memoryNodeCoversRam() {
        Node mem =
                build(input(new Layout(512 * MIB, 1), PsciVersion.V1_1)).node("/memory@80000000");
        assertEquals("memory", mem.string("device_type"));
        assertArrayEquals(new long[] {0x8000_0000L, 512 * MIB}, mem.u64s("reg"));
    }

    @Test
    void cpuNodesUseMpidrAffinity() {
        Tree t = build(input(new Layout(64 * MIB, 18), PsciVersion.V1_1));
        Node cpus = t.node("/cpus");
        assertEquals(1, cpus.u32("#address-cells"));
        assertEquals(0, cpus.u32("#size-cells"));
        assertEquals(18, cpus.children().size());
        Node c0 = t.node("/cpus/cpu@0");
        assertEquals("cpu", c0.string("device_type"));
        assertEquals("arm,arm-v8", c0.string("compatible"));
        assertEquals("psci", c0.string("enable-method"));
        assertEquals(0xf, t.node("/cpus/cpu@f").u32("reg"));
        assertEquals(0x100, t.node("/cpus/cpu@100").u32("reg")); // vCPU 16: Aff1 = 1, Aff0 = 0
        assertEquals(0x101, t.node("/cpus/cpu@101").u32("reg"));
        assertEquals(0, t.header().bootCpuidPhys());
    }

    @Test
    void aff3NeedsTwoAddressCells() {
        Layout l = new Layout(64 * MIB, 2);
        DeviceTreeInput in =
                DeviceTreeInput.of(l, List.of(0x8000_0000L, 0x01_8000_0000L), PsciVersion.V1_1, "");
        Tree t = build(in);
        assertEquals(2, t.node("/cpus").u32("#address-cells"));
        assertEquals(0x01_0000_0000L, t.node("/cpus/cpu@100000000").u64("reg"));
    }

    @Test
    void bootCpuIsTheFirstMpidr() {
        Layout l = new Layout(64 * MIB, 2);
        Tree t =
                build(
                        DeviceTreeInput.of(
                                l, List.of(0x8000_0203L, 0x8000_0000L), PsciVersion.V1_1, ""));
        assertEquals(0x203, t.header().bootCpuidPhys());
    }

    @Test
    void gicV3RegionsComeFromTheLayout() {
        Node gic = build(input(LAYOUT, PsciVersion.V1_1)).node("/intc@3fff0000");
        assertEquals("arm,gic-v3", gic.string("compatible"));
        assertEquals(3, gic.u32("#interrupt-cells"));
        assertTrue(gic.has("interrupt-controller"));
        assertEquals(DeviceTreeBuilder.GIC_PHANDLE, gic.u32("phandle"));
        assertArrayEquals(
                new long[] {0x3fff_0000L, 0x1_0000L, 0x3ff9_0000L, 3 * 0x2_0000L}, gic.u64s("reg"));
    }

    @Test
    void withoutItsTheGicHasNoChildrenAndNoAddressSpace() {
        Node gic = build(input(LAYOUT, PsciVersion.V1_1)).node("/intc@3fff0000");
        assertEquals(List.of(), gic.children());
        assertEquals(0, gic.u32("#address-cells"));
        assertFalse(gic.has("ranges"));
        assertFalse(gic.has("#size-cells"));
    }

    @Test
    void itsIsAnMsiControllerChildOfTheGicAtTheLayoutsFrame() {
        Node gic = build(input(LAYOUT, PsciVersion.V1_1).withIts()).node("/intc@3fff0000");
        // the child's reg is in the root's address space: 2+2 cells and an identity ranges
        assertEquals(2, gic.u32("#address-cells"));
        assertEquals(2, gic.u32("#size-cells"));
        assertTrue(gic.has("ranges"));
        assertEquals(0, gic.prop("ranges").length, "empty ranges: identity mapping");
        assertTrue(gic.has("interrupt-controller"));
        // 3 vCPUs: redistributors at 0x3ff9_0000, the ITS's 128 KiB right below (kvmtool)
        assertEquals(
                List.of("msi-controller@3ff70000"),
                gic.children().stream().map(Node::name).toList());
        Node its = gic.child("msi-controller@3ff70000");
        assertEquals("arm,gic-v3-its", its.string("compatible"));
        assertTrue(its.has("msi-controller"));
        assertEquals(0, its.prop("msi-controller").length);
        assertEquals(1, its.u32("#msi-cells"), "one cell: the device ID");
        assertArrayEquals(new long[] {0x3ff7_0000L, 0x2_0000L}, its.u64s("reg"));
        assertArrayEquals(
                new long[] {LAYOUT.gicIts().base(), LAYOUT.gicIts().size()}, its.u64s("reg"));
        assertEquals(DeviceTreeBuilder.ITS_PHANDLE, its.u32("phandle"));
        assertTrue(DeviceTreeBuilder.ITS_PHANDLE != DeviceTreeBuilder.GIC_PHANDLE);
    }

    @Test
    void dtcDecompilesTheItsTreeWithoutWarnings() {
        Dtc.Result r =
                Dtc.decompile(
                        new DeviceTreeBuilder(new Random(3))
                                .build(input(new Layout(2 * GIB, 1), PsciVersion.V1_1).withIts()));
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err().strip(), "dtc warnings");
        for (String expected :
                List.of(
                        "msi-controller@3ffb0000 {",
                        "compatible = \"arm,gic-v3-its\";",
                        "msi-controller;",
                        "#msi-cells = <0x01>;",
                        "reg = <0x00 0x3ffb0000 0x00 0x20000>;",
                        "ranges;")) {
            assertTrue(r.out().contains(expected), expected + "\n" + r.out());
        }
    }

    @Test
    void pl031RtcHasTheAmbaBusClockLinuxNeedsToProbeIt() {
        DeviceTreeInput in =
                input(LAYOUT, PsciVersion.V1_1)
                        .withExtraNodes(
                                List.of(
                                        DeviceTreeBuilder.pl031Rtc(
                                                LAYOUT.rtc(), Layout.RTC_INTID)));
        Tree t = build(in);
        Node rtc = t.node("/rtc@1010000");
        assertEquals(List.of("arm,pl031", "arm,primecell"), rtc.strings("compatible"));
        assertArrayEquals(new long[] {0x101_0000L, 0x1000L}, rtc.u64s("reg"));
        assertArrayEquals(new int[] {0, 1, 4}, rtc.u32s("interrupts")); // SPI 1, level high
        assertEquals("apb_pclk", rtc.string("clock-names"));
        Node clk = t.node("/apb-pclk");
        assertEquals(clk.u32("phandle"), rtc.u32("clocks"));
        assertEquals("fixed-clock", clk.string("compatible"));
        assertEquals(0, clk.u32("#clock-cells"));
        Dtc.Result r = Dtc.decompile(new DeviceTreeBuilder(new Random(3)).build(in));
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err().strip(), "dtc warnings");
    }

    @Test
    void timerListsTheFourPpisLevelLow() {
        Node timer = build(input(LAYOUT, PsciVersion.V1_1)).node("/timer");
        assertEquals(List.of("arm,armv8-timer", "arm,armv7-timer"), timer.strings("compatible"));
        assertArrayEquals(
                new int[] {1, 13, 8, 1, 14, 8, 1, 11, 8, 1, 10, 8}, timer.u32s("interrupts"));
        assertTrue(timer.has("always-on"));
    }

    @Test
    void psciCompatibleFollowsTheVersion() {
        assertEquals(
                List.of("arm,psci"),
                build(input(LAYOUT, PsciVersion.V0_1)).node("/psci").strings("compatible"));
        assertEquals(
                List.of("arm,psci-0.2", "arm,psci"),
                build(input(LAYOUT, PsciVersion.V0_2)).node("/psci").strings("compatible"));
        for (PsciVersion v : List.of(PsciVersion.V1_0, PsciVersion.V1_1, new PsciVersion(1, 3))) {
            Node psci = build(input(LAYOUT, v)).node("/psci");
            assertEquals(
                    List.of("arm,psci-1.0", "arm,psci-0.2", "arm,psci"),
                    psci.strings("compatible"),
                    v.toString());
            assertEquals("hvc", psci.string("method"));
            assertFalse(psci.has("cpu_on"));
        }
        Node v01 = build(input(LAYOUT, PsciVersion.V0_1)).node("/psci");
        assertEquals(0x95c1ba60, v01.u32("cpu_on")); // KVM_PSCI_FN_CPU_ON
        assertEquals(0x95c1ba5f, v01.u32("cpu_off"));
    }

    @Test
    void psciVersionDecodesKvmRegister() {
        assertEquals(PsciVersion.V1_1, PsciVersion.fromKvmRegister(0x1_0001L));
        assertEquals(PsciVersion.V0_2, PsciVersion.fromKvmRegister(0x2L));
        assertThrows(IllegalArgumentException.class, () -> PsciVersion.fromKvmRegister(0));
    }

    @Test
    void uartIsAnOfSerialNs16550a() {
        Node uart = build(input(LAYOUT, PsciVersion.V1_1)).node("/serial@1000000");
        assertEquals("ns16550a", uart.string("compatible"));
        assertArrayEquals(new long[] {0x100_0000L, 8}, uart.u64s("reg"));
        assertArrayEquals(new int[] {0, 0, 4}, uart.u32s("interrupts"));
        assertEquals(1_843_200, uart.u32("clock-frequency"));
    }

    @Test
    void contributorsAddNodesAfterTheBuiltInOnes() {
        FdtContributor sdei =
                fdt -> {
                    FdtNode fw = fdt.beginNode("firmware");
                    FdtNode s = fdt.beginNode("sdei");
                    fdt.propertyString("compatible", "arm,sdei-1.0");
                    fdt.propertyString("method", "hvc");
                    fdt.endNode(s);
                    fdt.endNode(fw);
                };
        DeviceTreeInput in =
                input(LAYOUT, PsciVersion.V1_1)
                        .withExtraNodes(
                                List.of(
                                        DeviceTreeBuilder.virtioMmio(
                                                LAYOUT.virtioSlot(0), LAYOUT.virtioIntid(0)),
                                        DeviceTreeBuilder.virtioMmio(
                                                LAYOUT.virtioSlot(1), LAYOUT.virtioIntid(1)),
                                        sdei));
        Tree t = build(in);
        List<String> names = t.root().children().stream().map(Node::name).toList();
        assertEquals(
                List.of("virtio_mmio@3000000", "virtio_mmio@3000200", "firmware"),
                names.subList(8, 11));
        Node v1 = t.node("/virtio_mmio@3000200");
        assertEquals("virtio,mmio", v1.string("compatible"));
        assertArrayEquals(new long[] {0x300_0200L, 0x200}, v1.u64s("reg"));
        assertArrayEquals(new int[] {0, 5, 1}, v1.u32s("interrupts"));
        assertTrue(v1.has("dma-coherent"));
        assertEquals("arm,sdei-1.0", t.node("/firmware/sdei").string("compatible"));
    }

    @Test
    void aContributorThatLeavesANodeOpenFails() {
        DeviceTreeInput in =
                input(LAYOUT, PsciVersion.V1_1)
                        .withExtraNodes(List.of(fdt -> fdt.beginNode("dangling")));
        FdtException e =
                assertThrows(
                        FdtException.class, () -> new DeviceTreeBuilder(new Random(1)).build(in));
        assertEquals(FdtException.Kind.OUT_OF_ORDER_END_NODE, e.kind(), e.getMessage());
    }

    @Test
    void aTreeLargerThan2MiBFails() {
        DeviceTreeInput in =
                input(LAYOUT, PsciVersion.V1_1)
                        .withExtraNodes(
                                List.of(
                                        fdt -> {
                                            FdtNode n = fdt.beginNode("big");
                                            fdt.property(
                                                    "blob", new byte[(int) Layout.FDT_MAX_SIZE]);
                                            fdt.endNode(n);
                                        }));
        FdtException e =
                assertThrows(
                        FdtException.class, () -> new DeviceTreeBuilder(new Random(1)).build(in));
        assertEquals(FdtException.Kind.TOTAL_SIZE_TOO_LARGE, e.kind());
        assertTrue(e.getMessage().contains("at most 2097152"), e.getMessage());
    }

    @Test
    void inputIsValidated() {
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        DeviceTreeInput.of(
                                LAYOUT, DeviceTreeInput.kvmDefaultMpidrs(2), PsciVersion.V1_1, ""));
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                DeviceTreeInput.of(
                                        new Layout(64 * MIB, 2),
                                        List.of(0x8000_0001L, 0x1L),
                                        PsciVersion.V1_1,
                                        ""));
        assertTrue(e.getMessage().contains("share affinity 0x1"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                input(LAYOUT, PsciVersion.V1_1)
                                        .withInitrd(0x7000_0000L, 0x7000_1000L));
        assertTrue(e.getMessage().contains("not inside guest RAM"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> input(LAYOUT, PsciVersion.V1_1).withInitrd(0x9000_0000L, 0x8000_0000L));
    }

    @Test
    void kvmDefaultMpidrsMatchResetMpidr() {
        assertEquals(0x8000_0000L, DeviceTreeInput.kvmDefaultMpidr(0));
        assertEquals(0x8000_000fL, DeviceTreeInput.kvmDefaultMpidr(15));
        assertEquals(0x8000_0101L, DeviceTreeInput.kvmDefaultMpidr(17));
        assertEquals(0x8001_0000L, DeviceTreeInput.kvmDefaultMpidr(4096));
    }

    /** dtc is an independent parser with its own lint: the blob must decompile clean. */
    @Test
    void dtcDecompilesTheGuestTreeWithoutWarnings() {
        Layout l = new Layout(2 * GIB, 4);
        DeviceTreeInput in =
                input(l, PsciVersion.V1_1)
                        .withInitrd(INITRD_START, INITRD_END)
                        .withExtraNodes(
                                List.of(
                                        DeviceTreeBuilder.virtioMmio(
                                                l.virtioSlot(0), l.virtioIntid(0))));
        Dtc.Result r = Dtc.decompile(new DeviceTreeBuilder(new Random(3)).build(in));
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err().strip(), "dtc warnings");
        for (String expected :
                List.of(
                        "compatible = \"linux,dummy-virt\";",
                        "bootargs = \"console=ttyS0 earlycon\";",
                        "stdout-path = \"/serial@1000000\";",
                        "linux,initrd-start = <0x00 0xf0000000>;",
                        "memory@80000000 {",
                        "reg = <0x00 0x80000000 0x00 0x80000000>;",
                        "cpu@3 {",
                        "enable-method = \"psci\";",
                        "intc@3fff0000 {",
                        "compatible = \"arm,gic-v3\";",
                        "#interrupt-cells = <0x03>;",
                        "reg = <0x00 0x3fff0000 0x00 0x10000 0x00 0x3ff70000 0x00 0x80000>;",
                        "compatible = \"arm,armv8-timer\\0arm,armv7-timer\";",
                        "interrupts = <0x01 0x0d 0x08 0x01 0x0e 0x08 0x01 0x0b 0x08 0x01 0x0a 0x08>;",
                        "always-on;",
                        "compatible = \"arm,psci-1.0\\0arm,psci-0.2\\0arm,psci\";",
                        "method = \"hvc\";",
                        "serial@1000000 {",
                        "compatible = \"ns16550a\";",
                        "clock-frequency = <0x1c2000>;",
                        "virtio_mmio@3000000 {",
                        "interrupts = <0x00 0x04 0x01>;",
                        "rng-seed = <",
                        "kaslr-seed = <")) {
            assertTrue(
                    r.out().contains(expected), "dtc output lacks: " + expected + "\n" + r.out());
        }
    }
}
