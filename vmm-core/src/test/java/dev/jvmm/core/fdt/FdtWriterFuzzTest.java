package dev.jvmm.core.fdt;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Jazzer target for the FDT writer: fuzzer-built trees (node and property names, nesting up to and
 * past the depth limit, raw/string/u32/u64/phandle values, a property after a child now and then,
 * reservation entries) are written, then decoded by the independent {@link FdtTestReader}.
 * Invariants: a tree whose names and values follow the devicetree specification decodes to exactly
 * the tree written (names, property values and order, children order, reservations, boot CPU);
 * anything else is refused at the offending call with the {@link FdtException.Kind} the
 * specification's rule predicts (checked here by hand, not with the writer's patterns); no other
 * exception escapes. A plain {@code mvn verify} replays {@code FdtWriterFuzzTestInputs/roundTrip/};
 * {@code JAZZER_FUZZ=1} fuzzes.
 */
class FdtWriterFuzzTest {
    private static final String[] NAMES = {
        "cpus",
        "cpu@0",
        "cpu@1",
        "memory@80000000",
        "chosen",
        "uart@3f8",
        "a",
        "virtio_mmio@3000000",
        "intc@8000000",
        "psci",
        "firmware",
        "sdei",
        "pl031@9010000",
        "x,y-z.w+v_u"
    };
    private static final String[] PROPS = {
        "compatible",
        "reg",
        "#address-cells",
        "#size-cells",
        "phandle",
        "linux,initrd-start",
        "bootargs",
        "interrupts",
        "status",
        "device_type",
        "a?b",
        "method"
    };

    @SuppressWarnings(
            "ArrayRecordComponent") // a generated property, compared by name; values compared with
    // Arrays
    record Prop(String name, byte[] value) {}

    static final class Node {
        final String name;
        final List<Prop> props = new ArrayList<>();
        final List<Node> children = new ArrayList<>();

        Node(String name) {
            this.name = name;
        }
    }

    /** Thrown out of the walk once the writer refused a call as predicted. */
    private static final class Refused extends RuntimeException {
        Refused() {
            super(null, null, false, false);
        }
    }

    private final Set<Integer> phandles = new HashSet<>();
    private int budget;

    @FuzzTest(maxDuration = "30s")
    void roundTrip(FuzzedDataProvider data) {
        phandles.clear();
        budget = 300;
        List<FdtReserveEntry> rsv = new ArrayList<>();
        int n = data.consumeInt(0, 4);
        for (int i = 0; i < n; i++) {
            long a =
                    data.consumeBoolean()
                            ? data.consumeLong(0, 1L << 36) & -4096L
                            : data.consumeLong();
            long s = data.consumeBoolean() ? data.consumeLong(0, 1L << 24) : data.consumeLong();
            boolean valid = s != 0 && Long.compareUnsigned(a + s, a) > 0;
            try {
                rsv.add(new FdtReserveEntry(a, s));
                assertTrue(
                        valid,
                        "reservation [0x"
                                + Long.toHexString(a)
                                + ", +0x"
                                + Long.toHexString(s)
                                + ") accepted");
            } catch (FdtException e) {
                assertFalse(valid, e.getMessage());
                assertEquals(FdtException.Kind.INVALID_MEMORY_RESERVATION, e.kind());
            }
        }
        boolean overlap = false;
        for (int i = 0; i < rsv.size(); i++) {
            for (int j = i + 1; j < rsv.size(); j++) {
                FdtReserveEntry x = rsv.get(i), y = rsv.get(j);
                overlap |=
                        Long.compareUnsigned(x.address(), y.address() + y.size()) < 0
                                && Long.compareUnsigned(y.address(), x.address() + x.size()) < 0;
            }
        }
        FdtWriter w;
        try {
            w = new FdtWriter(rsv);
            assertFalse(overlap, "overlapping reservations accepted: " + rsv);
        } catch (FdtException e) {
            assertTrue(overlap, e.getMessage());
            assertEquals(FdtException.Kind.OVERLAPPING_MEMORY_RESERVATIONS, e.kind());
            w = new FdtWriter();
            rsv.clear();
        }
        int bootCpu = data.consumeInt();
        w.setBootCpuidPhys(bootCpu);

        Node root = new Node("");
        try {
            FdtNode r = w.beginNode("");
            writeBody(w, data, root, 1);
            w.endNode(r);
        } catch (Refused expected) {
            return;
        }
        byte[] blob = w.finish();
        FdtException again = assertThrows(FdtException.class, w::finish);
        assertEquals(FdtException.Kind.FINISHED, again.kind());

        FdtTestReader.Tree t = FdtTestReader.parse(blob);
        assertEquals(FdtWriter.VERSION, t.header().version());
        assertEquals(FdtWriter.LAST_COMP_VERSION, t.header().lastCompVersion());
        assertEquals(bootCpu, t.header().bootCpuidPhys());
        assertEquals(rsv.size(), t.reservations().size());
        for (int i = 0; i < rsv.size(); i++) {
            assertEquals(rsv.get(i).address(), t.reservations().get(i).address());
            assertEquals(rsv.get(i).size(), t.reservations().get(i).size());
        }
        assertSameTree(root, t.root(), "/");
    }

    private void writeBody(FdtWriter w, FuzzedDataProvider data, Node node, int depth) {
        Set<String> siblings = new HashSet<>();
        boolean hadChild = false;
        while (budget-- > 0 && data.remainingBytes() > 0) {
            int op = data.consumeInt(0, 9);
            if (op <= 3) { // a property
                Prop p = prop(data);
                FdtException.Kind expected = null;
                if (!validPropertyName(p.name)) expected = FdtException.Kind.INVALID_PROPERTY_NAME;
                else if (hadChild) expected = FdtException.Kind.PROPERTY_AFTER_CHILD_NODE;
                else if (node.props.stream().anyMatch(q -> q.name.equals(p.name)))
                    expected = FdtException.Kind.DUPLICATE_PROPERTY;
                else if (p.name.equals("phandle")) expected = phandleProblem(p.value);
                int kind = data.consumeInt(0, 3);
                expectRefusal(
                        expected,
                        () -> {
                            switch (kind) {
                                case 0 -> w.property(p.name, p.value);
                                case 1 -> w.property(p.name, p.value.clone());
                                default -> {
                                    if (p.value.length == 4)
                                        w.propertyU32(
                                                p.name, java.nio.ByteBuffer.wrap(p.value).getInt());
                                    else if (p.value.length == 8)
                                        w.propertyU64(
                                                p.name,
                                                java.nio.ByteBuffer.wrap(p.value).getLong());
                                    else w.property(p.name, p.value);
                                }
                            }
                        });
                node.props.add(p);
                if (p.name.equals("phandle"))
                    phandles.add(java.nio.ByteBuffer.wrap(p.value).getInt());
            } else if (op <= 5) { // a string property
                String name = data.pickValue(PROPS);
                String value = data.consumeString(40);
                FdtException.Kind expected = null;
                if (value.indexOf('\0') >= 0)
                    expected = FdtException.Kind.INVALID_STRING; // checked before the call
                else if (hadChild) expected = FdtException.Kind.PROPERTY_AFTER_CHILD_NODE;
                else if (node.props.stream().anyMatch(q -> q.name.equals(name)))
                    expected = FdtException.Kind.DUPLICATE_PROPERTY;
                else if (name.equals("phandle")) expected = phandleProblem(cString(value));
                expectRefusal(expected, () -> w.propertyString(name, value));
                node.props.add(new Prop(name, cString(value)));
                if (name.equals("phandle"))
                    phandles.add(java.nio.ByteBuffer.wrap(cString(value)).getInt());
            } else if (op <= 8) { // a child
                String name = nodeName(data);
                FdtException.Kind expected = null;
                if (depth >= FdtWriter.MAX_NODE_DEPTH)
                    expected = FdtException.Kind.NODE_DEPTH_TOO_LARGE;
                else if (!validNodeName(name)) expected = FdtException.Kind.INVALID_NODE_NAME;
                else if (siblings.contains(name)) expected = FdtException.Kind.DUPLICATE_NODE_NAME;
                FdtNode[] token = new FdtNode[1];
                expectRefusal(expected, () -> token[0] = w.beginNode(name));
                siblings.add(name);
                hadChild = true;
                Node child = new Node(name);
                node.children.add(child);
                writeBody(w, data, child, depth + 1);
                w.endNode(token[0]);
            } else {
                return;
            }
        }
    }

    private FdtException.Kind phandleProblem(byte[] value) {
        if (value.length != 4) return FdtException.Kind.INVALID_PHANDLE;
        int v = java.nio.ByteBuffer.wrap(value).getInt();
        if (v == 0 || v == -1) return FdtException.Kind.INVALID_PHANDLE;
        return phandles.contains(v) ? FdtException.Kind.DUPLICATE_PHANDLE : null;
    }

    private static void expectRefusal(FdtException.Kind expected, Runnable call) {
        try {
            call.run();
        } catch (FdtException e) {
            assertEquals(expected, e.kind(), e.getMessage());
            assertNotNull(e.getMessage());
            throw new Refused();
        }
        assertNull(expected, "the writer accepted what the specification rules out");
    }

    private static Prop prop(FuzzedDataProvider data) {
        String name = data.consumeInt(0, 7) == 0 ? data.consumeString(34) : data.pickValue(PROPS);
        byte[] value =
                switch (data.consumeInt(0, 3)) {
                    case 0 -> new byte[0];
                    case 1 -> java.nio.ByteBuffer.allocate(4).putInt(data.consumeInt()).array();
                    case 2 -> java.nio.ByteBuffer.allocate(8).putLong(data.consumeLong()).array();
                    default -> data.consumeBytes(data.consumeInt(0, 64));
                };
        return new Prop(name, value);
    }

    private static String nodeName(FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 5)) {
            case 0 -> data.consumeString(40);
            case 1 -> data.consumeAsciiString(36);
            default -> data.pickValue(NAMES);
        };
    }

    private static byte[] cString(String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(u, u.length + 1);
    }

    private static boolean nameChar(char c, String extra) {
        return (c >= 'a' && c <= 'z')
                || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9')
                || ",._+-".indexOf(c) >= 0
                || extra.indexOf(c) >= 0;
    }

    /**
     * Devicetree spec 2.2.1: node-name (1-31 chars, a letter first) then an optional
     * non-empty @unit-address.
     */
    static boolean validNodeName(String s) {
        int at = s.indexOf('@');
        String name = at < 0 ? s : s.substring(0, at);
        if (name.isEmpty() || name.length() > 31) return false;
        char first = name.charAt(0);
        if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z'))) return false;
        for (char c : name.toCharArray()) if (!nameChar(c, "")) return false;
        if (at < 0) return true;
        String unit = s.substring(at + 1);
        if (unit.isEmpty()) return false;
        for (char c : unit.toCharArray()) if (!nameChar(c, "")) return false;
        return true;
    }

    /** Devicetree spec 2.2.4: 1-31 characters of [0-9a-zA-Z,._+?#-]. */
    static boolean validPropertyName(String s) {
        if (s.isEmpty() || s.length() > 31) return false;
        for (char c : s.toCharArray()) if (!nameChar(c, "?#")) return false;
        return true;
    }

    private static void assertSameTree(Node expected, FdtTestReader.Node actual, String path) {
        assertEquals(expected.name, actual.name(), path);
        assertEquals(expected.props.size(), actual.properties().size(), path + " property count");
        int i = 0;
        for (Map.Entry<String, byte[]> e : actual.properties().entrySet()) {
            Prop p = expected.props.get(i++);
            assertEquals(p.name, e.getKey(), path + " property order");
            assertArrayEquals(p.value, e.getValue(), path + p.name);
        }
        assertEquals(expected.children.size(), actual.children().size(), path + " child count");
        // spec 2.2.3: a path names one node, so siblings never share a name
        assertEquals(
                actual.children().size(),
                actual.children().stream().map(FdtTestReader.Node::name).distinct().count(),
                path + " has two children of one name");
        for (int c = 0; c < expected.children.size(); c++) {
            assertSameTree(
                    expected.children.get(c),
                    actual.children().get(c),
                    path + expected.children.get(c).name + "/");
        }
    }
}
