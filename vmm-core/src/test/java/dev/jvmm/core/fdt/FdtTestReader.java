package dev.jvmm.core.fdt;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict little blob parser for tests: it checks the header and token stream as it goes and
 * throws {@link IllegalArgumentException} on anything malformed, so a test that reads a tree has
 * also checked the blob is well-formed.
 */
public final class FdtTestReader {

    public record Header(
            int totalSize,
            int offStruct,
            int offStrings,
            int offRsvmap,
            int version,
            int lastCompVersion,
            int bootCpuidPhys,
            int sizeStrings,
            int sizeStruct) {}

    public record Reservation(long address, long size) {}

    /** One node: properties in blob order, children in blob order. */
    public record Node(String name, Map<String, byte[]> properties, List<Node> children) {
        public Node child(String childName) {
            return children.stream()
                    .filter(c -> c.name.equals(childName))
                    .findFirst()
                    .orElseThrow(
                            () ->
                                    new AssertionError(
                                            "no node '"
                                                    + childName
                                                    + "' under '"
                                                    + name
                                                    + "'; children: "
                                                    + children.stream().map(Node::name).toList()));
        }

        public byte[] prop(String prop) {
            byte[] v = properties.get(prop);
            if (v == null)
                throw new AssertionError(
                        "node '"
                                + name
                                + "' has no property '"
                                + prop
                                + "'; it has "
                                + properties.keySet());
            return v;
        }

        public boolean has(String prop) {
            return properties.containsKey(prop);
        }

        public int u32(String prop) {
            return u32s(prop)[0];
        }

        public int[] u32s(String prop) {
            ByteBuffer b = ByteBuffer.wrap(prop(prop));
            int[] out = new int[b.remaining() / 4];
            for (int i = 0; i < out.length; i++) out[i] = b.getInt();
            return out;
        }

        public long[] u64s(String prop) {
            ByteBuffer b = ByteBuffer.wrap(prop(prop));
            long[] out = new long[b.remaining() / 8];
            for (int i = 0; i < out.length; i++) out[i] = b.getLong();
            return out;
        }

        public long u64(String prop) {
            return u64s(prop)[0];
        }

        public List<String> strings(String prop) {
            byte[] v = prop(prop);
            if (v.length == 0 || v[v.length - 1] != 0)
                throw new AssertionError(prop + " is not NUL-terminated");
            List<String> out = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < v.length; i++) {
                if (v[i] == 0) {
                    out.add(new String(v, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return out;
        }

        public String string(String prop) {
            List<String> s = strings(prop);
            if (s.size() != 1) throw new AssertionError(prop + " holds " + s.size() + " strings");
            return s.get(0);
        }
    }

    public record Tree(Header header, List<Reservation> reservations, Node root) {
        /** Node by absolute path, e.g. {@code /cpus/cpu@0}. */
        public Node node(String path) {
            Node n = root;
            for (String part : path.split("/", -1)) if (!part.isEmpty()) n = n.child(part);
            return n;
        }
    }

    private FdtTestReader() {}

    public static Tree parse(byte[] blob) {
        ByteBuffer b = ByteBuffer.wrap(blob);
        require(b.getInt(0) == FdtWriter.MAGIC, "bad magic");
        Header h =
                new Header(
                        b.getInt(4),
                        b.getInt(8),
                        b.getInt(12),
                        b.getInt(16),
                        b.getInt(20),
                        b.getInt(24),
                        b.getInt(28),
                        b.getInt(32),
                        b.getInt(36));
        require(
                h.totalSize() == blob.length,
                "totalsize " + h.totalSize() + " != blob length " + blob.length);
        require(h.offRsvmap() % 8 == 0, "reservation block not 8-aligned");
        require(h.offStruct() % 4 == 0, "structure block not 4-aligned");
        require(h.offStruct() + h.sizeStruct() <= h.offStrings(), "structure overlaps strings");
        require(h.offStrings() + h.sizeStrings() <= blob.length, "strings run past the end");

        List<Reservation> rsv = new ArrayList<>();
        for (int off = h.offRsvmap(); ; off += 16) {
            long a = b.getLong(off), s = b.getLong(off + 8);
            if (a == 0 && s == 0) break;
            rsv.add(new Reservation(a, s));
        }

        b.position(h.offStruct());
        require(
                b.getInt() == FdtWriter.FDT_BEGIN_NODE,
                "structure does not start with the root node");
        Node root = node(b, blob, h);
        require(b.getInt() == FdtWriter.FDT_END, "no FDT_END after the root node");
        require(
                b.position() == h.offStruct() + h.sizeStruct(),
                "size_dt_struct does not match the tokens");
        return new Tree(h, rsv, root);
    }

    /** Parses a node whose FDT_BEGIN_NODE token was just read. */
    private static Node node(ByteBuffer b, byte[] blob, Header h) {
        String name = cstring(blob, b.position());
        b.position(align4(b.position() + name.length() + 1));
        Map<String, byte[]> props = new LinkedHashMap<>();
        List<Node> children = new ArrayList<>();
        while (true) {
            int token = b.getInt();
            switch (token) {
                case FdtWriter.FDT_PROP -> {
                    require(children.isEmpty(), "property after child node in '" + name + "'");
                    int len = b.getInt(), nameOff = b.getInt();
                    require(nameOff < h.sizeStrings(), "property name offset out of range");
                    String pname = cstring(blob, h.offStrings() + nameOff);
                    byte[] v = new byte[len];
                    b.get(v);
                    b.position(align4(b.position()));
                    require(
                            props.put(pname, v) == null,
                            "duplicate property " + pname + " in '" + name + "'");
                }
                case FdtWriter.FDT_BEGIN_NODE -> children.add(node(b, blob, h));
                case FdtWriter.FDT_END_NODE -> {
                    return new Node(name, props, children);
                }
                case 4 -> {} // FDT_NOP
                default ->
                        throw new IllegalArgumentException(
                                "unexpected token " + token + " at " + (b.position() - 4));
            }
        }
    }

    private static String cstring(byte[] blob, int off) {
        int end = off;
        while (blob[end] != 0) end++;
        return new String(blob, off, end - off, StandardCharsets.US_ASCII);
    }

    private static int align4(int v) {
        return (v + 3) & ~3;
    }

    private static void require(boolean ok, String what) {
        if (!ok) throw new IllegalArgumentException("malformed blob: " + what);
    }
}
