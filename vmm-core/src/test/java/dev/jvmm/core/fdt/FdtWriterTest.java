package dev.jvmm.core.fdt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.fdt.FdtException.Kind;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Golden blobs derived by hand from the devicetree specification (chapter 5), each also compared
 * with what dtc makes of the equivalent source, then one test per error.
 */
class FdtWriterTest {

    /** Hex with spaces and '|' comments allowed: one word per group, offsets in the comments. */
    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replaceAll("\\|[^\\n]*", "").replaceAll("\\s+", ""));
    }

    // ---- golden trees
    // ----------------------------------------------------------------------------

    private static byte[] minimal() {
        FdtWriter w = new FdtWriter();
        w.endNode(w.beginNode(""));
        return w.finish();
    }

    private static final String MINIMAL_DTS = "/dts-v1/; / { };";
    private static final byte[] MINIMAL =
            hex(
                    """
            d00dfeed | 00 magic
            00000048 | 04 totalsize
            00000038 | 08 off_dt_struct
            00000048 | 0c off_dt_strings
            00000028 | 10 off_mem_rsvmap
            00000011 | 14 version 17
            00000010 | 18 last_comp_version 16
            00000000 | 1c boot_cpuid_phys
            00000000 | 20 size_dt_strings
            00000010 | 24 size_dt_struct
            00000000 00000000 00000000 00000000 | 28 reservation terminator
            00000001 | 38 FDT_BEGIN_NODE
            00000000 | 3c "" + padding
            00000002 | 40 FDT_END_NODE
            00000009 | 44 FDT_END
            """);

    /** Properties, a string list with padding, a child, and a name that reuses a suffix. */
    private static byte[] withChild() {
        FdtWriter w = new FdtWriter();
        FdtNode root = w.beginNode("");
        w.propertyU32("#address-cells", 1);
        w.propertyStringList("compatible", "a", "bc");
        FdtNode cpu = w.beginNode("cpu@0");
        w.propertyU32("reg", 0);
        w.propertyU32("cells", 7);
        w.endNode(cpu);
        w.endNode(root);
        return w.finish();
    }

    private static final String WITH_CHILD_DTS =
            """
            /dts-v1/;
            / { #address-cells = <1>; compatible = "a", "bc";
                cpu@0 { reg = <0>; cells = <7>; }; };
            """;
    private static final byte[] WITH_CHILD =
            hex(
                    """
            d00dfeed 000000ba 00000038 0000009c 00000028 00000011 00000010 00000000
            0000001e | 20 size_dt_strings: "#address-cells\\0compatible\\0reg\\0" = 15+11+4
            00000064 | 24 size_dt_struct 0x9c - 0x38
            00000000 00000000 00000000 00000000
            00000001 00000000                   | 38 root
            00000003 00000004 00000000 00000001 | 40 #address-cells = <1>, name at 0
            00000003 00000005 0000000f 61006263 00000000 | 50 compatible "a\\0bc\\0" + 3 pad, name at 15
            00000001 63707540 30000000          | 64 cpu@0 + 2 pad
            00000003 00000004 0000001a 00000000 | 70 reg = <0>, name at 26
            00000003 00000004 00000009 00000007 | 80 cells = <7>: suffix of "#address-cells" at 9
            00000002 00000002 00000009          | 90 end cpu@0, end root, FDT_END
            2361646472657373 2d63656c6c7300     | 9c "#address-cells\\0"
            636f6d70617469626c6500              |    "compatible\\0"
            72656700                            |    "reg\\0"
            """);

    /** A reservation, boot_cpuid_phys, a u64, an empty property and a phandle. */
    private static byte[] withReservation() {
        FdtWriter w = new FdtWriter(List.of(new FdtReserveEntry(0x8000_0000L, 0x1000)));
        w.setBootCpuidPhys(1);
        FdtNode root = w.beginNode("");
        w.propertyU64("kaslr-seed", 0x0102030405060708L);
        FdtNode intc = w.beginNode("intc");
        w.propertyPhandle(1);
        w.propertyNull("interrupt-controller");
        w.endNode(intc);
        w.endNode(root);
        return w.finish();
    }

    private static final String WITH_RESERVATION_DTS =
            """
            /dts-v1/;
            /memreserve/ 0x80000000 0x1000;
            / { kaslr-seed = /bits/ 64 <0x0102030405060708>;
                intc { phandle = <1>; interrupt-controller; }; };
            """;
    private static final byte[] WITH_RESERVATION =
            hex(
                    """
            d00dfeed 000000c0 00000048 00000098 00000028 00000011 00000010
            00000001 | 1c boot_cpuid_phys 1
            00000028 | 20 size_dt_strings 11+8+21
            00000050 | 24 size_dt_struct 0x98 - 0x48
            00000000 80000000 00000000 00001000 | 28 reservation
            00000000 00000000 00000000 00000000 | 38 terminator
            00000001 00000000                   | 48 root
            00000003 00000008 00000000 01020304 05060708 | 50 kaslr-seed
            00000001 696e7463 00000000          | 64 intc + 3 pad
            00000003 00000004 0000000b 00000001 | 70 phandle = <1>
            00000003 00000000 00000013          | 80 interrupt-controller (empty)
            00000002 00000002 00000009          | 8c
            6b61736c722d7365656400 | 98 "kaslr-seed\\0"
            7068616e646c6500       |    "phandle\\0"
            696e746572727570742d636f6e74726f6c6c657200 | "interrupt-controller\\0"
            """);

    @Test
    void minimalTreeMatchesHandDerivedBytes() {
        assertArrayEquals(MINIMAL, minimal());
    }

    @Test
    void childTreeMatchesHandDerivedBytes() {
        assertArrayEquals(WITH_CHILD, withChild());
    }

    @Test
    void reservationTreeMatchesHandDerivedBytes() {
        assertArrayEquals(WITH_RESERVATION, withReservation());
    }

    @Test
    void goldenTreesMatchDtc() {
        assertArrayEquals(Dtc.compile(MINIMAL_DTS), minimal(), "minimal");
        assertArrayEquals(Dtc.compile(WITH_CHILD_DTS), withChild(), "with child");
        assertArrayEquals(
                Dtc.compile(WITH_RESERVATION_DTS, "-b", "1"),
                withReservation(),
                "with reservation");
    }

    @Test
    void everyPropertyHelperEncodesBigEndian() {
        FdtWriter w = new FdtWriter();
        FdtNode root = w.beginNode("");
        w.propertyString("s", "héllo");
        w.propertyArrayU32("a32", 1, 0xfffffffe);
        w.propertyArrayU64("a64", 0x1122334455667788L, -1L);
        w.propertyStringList("list", List.of());
        w.endNode(root);
        FdtTestReader.Node r = FdtTestReader.parse(w.finish()).root();
        assertEquals("héllo", r.string("s"));
        assertArrayEquals(new int[] {1, 0xfffffffe}, r.u32s("a32"));
        assertArrayEquals(new long[] {0x1122334455667788L, -1L}, r.u64s("a64"));
        assertEquals(0, r.prop("list").length);
    }

    @Test
    void sixtyFourLevelsAreAllowed() {
        FdtWriter w = new FdtWriter();
        FdtNode[] nodes = new FdtNode[FdtWriter.MAX_NODE_DEPTH];
        nodes[0] = w.beginNode("");
        for (int i = 1; i < nodes.length; i++) nodes[i] = w.beginNode("n" + i);
        for (int i = nodes.length - 1; i >= 0; i--) w.endNode(nodes[i]);
        FdtTestReader.parse(w.finish());
    }

    // ---- one test per error
    // ----------------------------------------------------------------------

    private static void assertFails(Kind kind, String messagePart, Executable body) {
        FdtException e = assertThrows(FdtException.class, body);
        assertEquals(kind, e.kind(), e.getMessage());
        assertTrue(
                e.getMessage().contains(messagePart),
                "message '" + e.getMessage() + "' lacks '" + messagePart + "'");
    }

    @Test
    void endingANodeOutOfOrderFails() {
        FdtWriter w = new FdtWriter();
        FdtNode root = w.beginNode("");
        w.beginNode("child");
        assertFails(
                Kind.OUT_OF_ORDER_END_NODE, "innermost open node is /child", () -> w.endNode(root));
    }

    @Test
    void endingAStaleSiblingTokenFails() {
        FdtWriter w = new FdtWriter();
        w.beginNode("");
        FdtNode a = w.beginNode("a");
        w.endNode(a);
        w.beginNode("b");
        assertFails(Kind.OUT_OF_ORDER_END_NODE, "endNode(a)", () -> w.endNode(a));
    }

    @Test
    void endingAnotherWritersTokenFails() {
        FdtWriter other = new FdtWriter();
        FdtNode foreign = other.beginNode("");
        FdtWriter w = new FdtWriter();
        w.beginNode("");
        assertFails(Kind.OUT_OF_ORDER_END_NODE, "another FdtWriter", () -> w.endNode(foreign));
    }

    @Test
    void finishingWithAnOpenNodeFails() {
        FdtWriter w = new FdtWriter();
        w.beginNode("");
        w.beginNode("cpus");
        assertFails(Kind.UNCLOSED_NODE, "/cpus still open", w::finish);
    }

    @Test
    void finishingAnEmptyTreeFails() {
        assertFails(Kind.MISSING_ROOT_NODE, "empty tree", new FdtWriter()::finish);
    }

    @Test
    void aSecondRootFails() {
        FdtWriter w = new FdtWriter();
        w.endNode(w.beginNode(""));
        assertFails(Kind.SECOND_ROOT_NODE, "one root", () -> w.beginNode(""));
    }

    @Test
    void propertyOutsideAnyNodeFails() {
        assertFails(
                Kind.PROPERTY_BEFORE_BEGIN_NODE,
                "outside any node",
                () -> new FdtWriter().propertyU32("reg", 0));
        FdtWriter w = new FdtWriter();
        w.endNode(w.beginNode(""));
        assertFails(Kind.PROPERTY_BEFORE_BEGIN_NODE, "already ended", () -> w.propertyNull("x"));
    }

    @Test
    void propertyAfterChildNodeFails() {
        FdtWriter w = new FdtWriter();
        w.beginNode("");
        w.endNode(w.beginNode("chosen"));
        assertFails(
                Kind.PROPERTY_AFTER_CHILD_NODE,
                "properties must precede children",
                () -> w.propertyU32("x", 1));
    }

    @Test
    void duplicatePropertyFails() {
        FdtWriter w = new FdtWriter();
        w.beginNode("");
        w.beginNode("memory@0");
        w.propertyString("device_type", "memory");
        assertFails(
                Kind.DUPLICATE_PROPERTY,
                "'device_type' appears twice in /memory@0",
                () -> w.propertyString("device_type", "memory"));
    }

    /**
     * Found by FdtWriterFuzzTest: spec 2.2.3 names a node by its path, so two siblings cannot share
     * a name (dtc refuses too).
     */
    @Test
    void duplicateSiblingNodeNameFails() {
        FdtWriter w = new FdtWriter();
        w.beginNode("");
        FdtNode first = w.beginNode("firmware");
        w.endNode(first);
        assertFails(
                Kind.DUPLICATE_NODE_NAME,
                "node 'firmware' appears twice in /",
                () -> w.beginNode("firmware"));
    }

    @Test
    void sameNodeNameUnderDifferentParentsOrWithOtherUnitAddressIsFine() {
        FdtWriter w = new FdtWriter();
        FdtNode root = w.beginNode("");
        FdtNode a = w.beginNode("a");
        w.endNode(w.beginNode("x"));
        w.endNode(a);
        FdtNode b = w.beginNode("b");
        w.endNode(w.beginNode("x"));
        w.endNode(b);
        w.endNode(w.beginNode("cpu@0"));
        w.endNode(w.beginNode("cpu@1"));
        w.endNode(root);
        FdtTestReader.Tree t = FdtTestReader.parse(w.finish());
        assertEquals(
                List.of("a", "b", "cpu@0", "cpu@1"),
                t.root().children().stream().map(FdtTestReader.Node::name).toList());
    }

    @Test
    void samePropertyNameInDifferentNodesIsFine() {
        FdtWriter w = new FdtWriter();
        FdtNode root = w.beginNode("");
        w.propertyU32("x", 1);
        FdtNode c = w.beginNode("c");
        w.propertyU32("x", 2);
        w.endNode(c);
        w.endNode(root);
        assertEquals(2, FdtTestReader.parse(w.finish()).node("/c").u32("x"));
    }

    @Test
    void nodeDepthBeyond64Fails() {
        FdtWriter w = new FdtWriter();
        w.beginNode("");
        for (int i = 1; i < FdtWriter.MAX_NODE_DEPTH; i++) w.beginNode("n" + i);
        assertFails(Kind.NODE_DEPTH_TOO_LARGE, "deeper than 64", () -> w.beginNode("deep"));
    }

    @Test
    void invalidNodeNamesFail() {
        for (String bad :
                List.of("", "1cpu", "cpu@", "a@b@c", "with space", "nul\0", "x".repeat(32), "é")) {
            FdtWriter w = new FdtWriter();
            w.beginNode("");
            assertFails(Kind.INVALID_NODE_NAME, "invalid node name", () -> w.beginNode(bad));
        }
        assertFails(
                Kind.INVALID_NODE_NAME,
                "root node must be named",
                () -> new FdtWriter().beginNode("root"));
        FdtWriter ok = new FdtWriter();
        ok.beginNode("");
        ok.beginNode("virtio_mmio@a000000");
        ok.beginNode("x".repeat(31) + "@1,2");
    }

    @Test
    void invalidPropertyNamesFail() {
        for (String bad : List.of("", "has space", "nul\0", "a/b", "x".repeat(32))) {
            FdtWriter w = new FdtWriter();
            w.beginNode("");
            assertFails(
                    Kind.INVALID_PROPERTY_NAME, "invalid property name", () -> w.propertyNull(bad));
        }
    }

    @Test
    void duplicatePhandleFails() {
        FdtWriter w = new FdtWriter();
        w.beginNode("");
        FdtNode a = w.beginNode("a");
        w.propertyPhandle(1);
        w.endNode(a);
        w.beginNode("b");
        assertFails(
                Kind.DUPLICATE_PHANDLE,
                "phandle 0x1 in /b is already used",
                () -> w.propertyPhandle(1));
    }

    @Test
    void reservedOrMalformedPhandleFails() {
        for (int bad : new int[] {0, -1}) {
            FdtWriter w = new FdtWriter();
            w.beginNode("");
            assertFails(Kind.INVALID_PHANDLE, "reserved", () -> w.propertyPhandle(bad));
        }
        FdtWriter w = new FdtWriter();
        w.beginNode("");
        assertFails(Kind.INVALID_PHANDLE, "one 32-bit cell", () -> w.propertyU64("phandle", 1));
    }

    @Test
    void overlappingMemoryReservationsFail() {
        assertFails(
                Kind.OVERLAPPING_MEMORY_RESERVATIONS,
                "[0x1000, 0x3000) and [0x2fff, 0x3fff) overlap",
                () ->
                        new FdtWriter(
                                List.of(
                                        new FdtReserveEntry(0x2fff, 0x1000),
                                        new FdtReserveEntry(0x1000, 0x2000))));
        // touching is not overlapping
        new FdtWriter(
                List.of(new FdtReserveEntry(0x1000, 0x1000), new FdtReserveEntry(0x2000, 0x1000)));
    }

    @Test
    void invalidMemoryReservationsFail() {
        assertFails(
                Kind.INVALID_MEMORY_RESERVATION, "size 0", () -> new FdtReserveEntry(0x1000, 0));
        assertFails(
                Kind.INVALID_MEMORY_RESERVATION,
                "end of the 64-bit",
                () -> new FdtReserveEntry(-0x1000L, 0x1000));
    }

    @Test
    void stringWithNulFails() {
        FdtWriter w = new FdtWriter();
        w.beginNode("");
        assertFails(
                Kind.INVALID_STRING,
                "bootargs",
                () -> w.propertyString("bootargs", "console=ttyS0\0x"));
        assertFails(
                Kind.INVALID_STRING,
                "compatible",
                () -> w.propertyStringList("compatible", "a", "b\0"));
    }

    @Test
    void treeLargerThanTheLimitFails() {
        FdtWriter w = new FdtWriter(List.of(), 128);
        w.beginNode("");
        assertFails(
                Kind.TOTAL_SIZE_TOO_LARGE,
                "exceeds 128 bytes",
                () -> w.property("blob", new byte[100]));
    }

    @Test
    void writerIsUnusableAfterFinish() {
        FdtWriter w = new FdtWriter();
        w.endNode(w.beginNode(""));
        w.finish();
        assertFails(Kind.FINISHED, "already finished", w::finish);
        assertFails(Kind.FINISHED, "already finished", () -> w.beginNode(""));
    }
}
