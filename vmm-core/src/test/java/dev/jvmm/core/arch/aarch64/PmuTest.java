package dev.jvmm.core.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.JvmmException;
import dev.jvmm.core.UnsupportedRequestException;
import dev.jvmm.core.arch.DeviceTreeBuilder;
import dev.jvmm.core.arch.DeviceTreeInput;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.fdt.Dtc;
import dev.jvmm.core.fdt.FdtTestReader;
import dev.jvmm.core.fdt.FdtTestReader.Node;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PmuTest {
    private static final HostPmu ONE = new HostPmu("armv8_pmuv3_0", 10, cpus("0-7"));
    private static final HostPmu LITTLE = new HostPmu("armv8_cortex_a53", 8, cpus("0-3"));
    private static final HostPmu BIG = new HostPmu("armv8_cortex_a72", 9, cpus("4-5"));

    private static BitSet cpus(String list) {
        return HostPmu.parseCpuList(list);
    }

    @Test
    void aHostWithoutKvmPmuV3IsRefusedInOneLineNamingTheOption() {
        UnsupportedRequestException e =
                assertThrows(
                        UnsupportedRequestException.class,
                        () -> Pmu.choose(false, List.of(ONE), cpus("0-7")));
        assertEquals(JvmmException.Kind.HOST_UNSUPPORTED, e.errorKind());
        assertTrue(e.getMessage().startsWith("--pmu: "), e.getMessage());
        assertTrue(e.getMessage().contains("KVM_CAP_ARM_PMU_V3"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void oneHostPmuOrNoneKnownLeavesTheChoiceToKvm() {
        assertTrue(Pmu.choose(true, List.of(ONE), cpus("0-7")).selected().isEmpty());
        assertTrue(Pmu.choose(true, List.of(), new BitSet()).selected().isEmpty());
    }

    @Test
    void severalHostPmusTakeTheOneCoveringTheAllowedCpus() {
        assertEquals(BIG, Pmu.choose(true, List.of(LITTLE, BIG), cpus("4-5")).selected().get());
        assertEquals(LITTLE, Pmu.choose(true, List.of(LITTLE, BIG), cpus("1")).selected().get());
    }

    @Test
    void severalHostPmusAndCpusOfMoreThanOneKindAreRefusedWithWhereToPin() {
        for (BitSet allowed : List.of(cpus("0-5"), cpus("3-4"), new BitSet())) {
            UnsupportedRequestException e =
                    assertThrows(
                            UnsupportedRequestException.class,
                            () -> Pmu.choose(true, List.of(LITTLE, BIG), allowed));
            assertEquals(
                    "--pmu: this host's CPUs have different PMUs (armv8_cortex_a53 (type 8, CPUs"
                            + " 0-3), armv8_cortex_a72 (type 9, CPUs 4-5)) and jvmm may run on CPUs"
                            + " of more than one; pin it to one kind, e.g. taskset -c 0-3 jvmm run"
                            + " ...",
                    e.getMessage());
        }
    }

    @Test
    void allowedCpusComeFromTheStatusFileAndAreEmptyWhenUnknown(@TempDir Path dir)
            throws IOException {
        Path status = dir.resolve("status");
        Files.writeString(
                status, "Name:\tjava\nCpus_allowed:\t30\nCpus_allowed_list:\t4-5\nvoluntary:\t1\n");
        assertEquals(cpus("4-5"), Pmu.allowedCpus(status));
        assertTrue(Pmu.allowedCpus(dir.resolve("missing")).isEmpty());
        Files.writeString(status, "Cpus_allowed_list:\tgarbage\n");
        assertTrue(Pmu.allowedCpus(status).isEmpty());
    }

    @Test
    void describeNamesThePpiAndTheChosenHostPmu() {
        assertEquals(
                "--pmu: PMUv3 on every vCPU, overflow interrupt PPI 7",
                Pmu.choose(true, List.of(ONE), new BitSet()).describe());
        assertEquals(
                "--pmu: PMUv3 on every vCPU, overflow interrupt PPI 7, backed by armv8_cortex_a72"
                        + " (type 9, CPUs 4-5)",
                Pmu.choose(true, List.of(LITTLE, BIG), cpus("5")).describe());
    }

    private static byte[] treeWith(boolean pmu) {
        Layout layout = new Layout(256 * Layout.MIB, 2);
        DeviceTreeInput in =
                DeviceTreeInput.of(
                                layout,
                                DeviceTreeInput.kvmDefaultMpidrs(2),
                                PsciVersion.V1_1,
                                "console=ttyS0")
                        .withExtraNodes(pmu ? List.of(Pmu.deviceTreeNode()) : List.of());
        return new DeviceTreeBuilder(new Random(1)).build(in);
    }

    @Test
    void deviceTreeNodeIsAnArmv8Pmuv3OnPpi7LevelHigh() {
        Node root = FdtTestReader.parse(treeWith(true)).root();
        Node pmu = root.child("pmu");
        assertEquals(List.of("arm,armv8-pmuv3"), pmu.strings("compatible"));
        // <GIC_PPI 7 IRQ_TYPE_LEVEL_HIGH>: INTID 23 is PPI 7; the root's interrupt-parent is the
        // GIC
        assertArrayEquals(new int[] {1, 7, 4}, pmu.u32s("interrupts"));
        assertEquals(List.of("compatible", "interrupts"), List.copyOf(pmu.properties().keySet()));
        assertFalse(
                FdtTestReader.parse(treeWith(false)).root().children().stream()
                        .anyMatch(n -> n.name().equals("pmu")),
                "no pmu node without --pmu");
    }

    /** dtc, an independent parser, reads the same node from the blob and does not warn. */
    @Test
    void dtcDecompilesThePmuNodeWithoutWarnings() {
        Dtc.Result r = Dtc.decompile(treeWith(true));
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err().strip(), "dtc warnings");
        String dts = r.out();
        int at = dts.indexOf("pmu {");
        assertTrue(at > 0, dts);
        String node = dts.substring(at, dts.indexOf("};", at));
        assertTrue(node.contains("compatible = \"arm,armv8-pmuv3\";"), node);
        assertTrue(node.contains("interrupts = <0x01 0x07 0x04>;"), node);
    }
}
