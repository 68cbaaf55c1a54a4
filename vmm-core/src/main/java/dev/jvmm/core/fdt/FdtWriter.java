package dev.jvmm.core.fdt;

import dev.jvmm.core.fdt.FdtException.Kind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Writes a flattened device tree blob (devicetree specification v0.4, chapter 5), in the shape of
 * rust-vmm vm-fdt: nodes are opened with {@link #beginNode} and closed with {@link #endNode}, a
 * node's properties come before its children, {@link #finish} returns the blob.
 *
 * <p>Output is byte-for-byte what {@code dtc -I dts -O dtb} (1.6) produces for the same tree: the
 * same block order (header, reservations, structure, strings), version 17 / last compatible 16, and
 * dtc's string table, which reuses an existing string when the new name is a suffix of it. Matching
 * dtc keeps our golden tests checkable against an independent implementation.
 *
 * <p>Not thread-safe; one writer builds one tree.
 */
public final class FdtWriter {
    /**
     * Same limit as Linux's {@code FDT_MAX_DEPTH}: deeper trees are rejected by the guest anyway.
     */
    public static final int MAX_NODE_DEPTH = 64;

    public static final int VERSION = 17;
    public static final int LAST_COMP_VERSION = 16;

    static final int MAGIC = 0xd00dfeed;
    static final int FDT_BEGIN_NODE = 1;
    static final int FDT_END_NODE = 2;
    static final int FDT_PROP = 3;
    static final int FDT_END = 9;
    static final int HEADER_SIZE = 40;

    /**
     * Spec 2.2.1: node-name is 1-31 characters, starts with a letter; unit-address uses the same
     * set.
     */
    private static final Pattern NODE_NAME =
            Pattern.compile("[A-Za-z][A-Za-z0-9,._+-]{0,30}(@[A-Za-z0-9,._+-]+)?");

    /** Spec 2.2.4: property names are 1-31 characters of this set. */
    private static final Pattern PROPERTY_NAME = Pattern.compile("[A-Za-z0-9,._+?#-]{1,31}");

    private final List<FdtReserveEntry> reservations;
    private final int maxTotalSize;
    private final ByteBuf struct = new ByteBuf();
    private final ByteBuf strings = new ByteBuf();

    /** Offset of every string and every suffix of one already in the table (dtc's reuse rule). */
    private final Map<String, Integer> stringOffsets = new HashMap<>();

    private final Deque<OpenNode> open = new ArrayDeque<>();
    private final Set<Integer> phandles = new HashSet<>();
    private long nextSerial;
    private boolean rootClosed;
    private boolean finished;
    private int bootCpuidPhys;

    private static final class OpenNode {
        final FdtNode token;
        final Set<String> properties = new HashSet<>();

        /**
         * Spec 2.2.3: a path names one node, so siblings need distinct names (dtc refuses
         * duplicates too).
         */
        final Set<String> children = new HashSet<>();

        boolean hasChild;

        OpenNode(FdtNode token) {
            this.token = token;
        }
    }

    /** A writer with an empty memory reservation block. */
    public FdtWriter() {
        this(List.of());
    }

    /** A writer whose reservation block lists {@code reservations} in the given order. */
    public FdtWriter(List<FdtReserveEntry> reservations) {
        this(reservations, Integer.MAX_VALUE - 64);
    }

    /** For tests: a size limit small enough to reach. */
    FdtWriter(List<FdtReserveEntry> reservations, int maxTotalSize) {
        this.reservations = List.copyOf(reservations);
        this.maxTotalSize = maxTotalSize;
        checkOverlaps(this.reservations);
    }

    private static void checkOverlaps(List<FdtReserveEntry> entries) {
        List<FdtReserveEntry> sorted = new ArrayList<>(entries);
        sorted.sort((a, b) -> Long.compareUnsigned(a.address(), b.address()));
        for (int i = 1; i < sorted.size(); i++) {
            FdtReserveEntry a = sorted.get(i - 1), b = sorted.get(i);
            if (Long.compareUnsigned(a.end(), b.address()) > 0) {
                throw new FdtException(
                        Kind.OVERLAPPING_MEMORY_RESERVATIONS,
                        String.format(
                                "memory reservations [0x%x, 0x%x) and [0x%x, 0x%x) overlap",
                                a.address(), a.end(), b.address(), b.end()));
            }
        }
    }

    /** The header's boot_cpuid_phys: the physical id ({@code reg}) of the CPU that boots. */
    public void setBootCpuidPhys(int bootCpuidPhys) {
        checkNotFinished();
        this.bootCpuidPhys = bootCpuidPhys;
    }

    /**
     * Opens a node as a child of the innermost open node; the first node must be the root, named
     * {@code ""}. Names follow the spec: {@code node-name[@unit-address]}.
     */
    public FdtNode beginNode(String name) {
        checkNotFinished();
        if (open.size() >= MAX_NODE_DEPTH) {
            throw new FdtException(
                    Kind.NODE_DEPTH_TOO_LARGE,
                    String.format(
                            "node '%s' under %s would be deeper than %d levels",
                            name, path(), MAX_NODE_DEPTH));
        }
        if (open.isEmpty()) {
            if (rootClosed) {
                throw new FdtException(
                        Kind.SECOND_ROOT_NODE,
                        String.format(
                                "node '%s' begun after the root node was ended: a tree has one root",
                                name));
            }
            if (!name.isEmpty()) {
                throw new FdtException(
                        Kind.INVALID_NODE_NAME,
                        String.format(
                                "the root node must be named \"\", not '%s'", printable(name)));
            }
        } else {
            if (!NODE_NAME.matcher(name).matches()) {
                throw new FdtException(
                        Kind.INVALID_NODE_NAME,
                        String.format(
                                "invalid node name '%s' under %s: want node-name[@unit-address], a letter "
                                        + "then up to 30 of [A-Za-z0-9,._+-]",
                                printable(name), path()));
            }
            if (!open.peek().children.add(name)) {
                throw new FdtException(
                        Kind.DUPLICATE_NODE_NAME,
                        String.format("node '%s' appears twice in %s", name, path()));
            }
            open.peek().hasChild = true;
        }
        FdtNode token = new FdtNode(this, nextSerial++, name);
        struct.u32(FDT_BEGIN_NODE);
        struct.bytes(name.getBytes(StandardCharsets.US_ASCII));
        struct.u8(0);
        struct.align4();
        open.push(new OpenNode(token));
        checkSize();
        return token;
    }

    /** Closes {@code node}, which must be the innermost open node. */
    public void endNode(FdtNode node) {
        checkNotFinished();
        if (node.owner() != this) {
            throw new FdtException(
                    Kind.OUT_OF_ORDER_END_NODE,
                    "endNode(" + node + "): the token belongs to another FdtWriter");
        }
        if (open.isEmpty() || open.peek().token.serial() != node.serial()) {
            throw new FdtException(
                    Kind.OUT_OF_ORDER_END_NODE,
                    String.format(
                            "endNode(%s) out of order: the innermost open node is %s",
                            node, open.isEmpty() ? "none" : path()));
        }
        open.pop();
        if (open.isEmpty()) rootClosed = true;
        struct.u32(FDT_END_NODE);
    }

    /** Adds a property with a raw value to the innermost open node. */
    public void property(String name, byte[] value) {
        checkNotFinished();
        if (open.isEmpty()) {
            throw new FdtException(
                    Kind.PROPERTY_BEFORE_BEGIN_NODE,
                    String.format(
                            "property '%s' is outside any node%s",
                            printable(name),
                            rootClosed ? " (the root node was already ended)" : ""));
        }
        OpenNode node = open.peek();
        if (!PROPERTY_NAME.matcher(name).matches()) {
            throw new FdtException(
                    Kind.INVALID_PROPERTY_NAME,
                    String.format(
                            "invalid property name '%s' in %s: want 1-31 of [A-Za-z0-9,._+?#-]",
                            printable(name), path()));
        }
        if (node.hasChild) {
            throw new FdtException(
                    Kind.PROPERTY_AFTER_CHILD_NODE,
                    String.format(
                            "property '%s' of %s comes after a child node: properties must precede children",
                            name, path()));
        }
        if (!node.properties.add(name)) {
            throw new FdtException(
                    Kind.DUPLICATE_PROPERTY,
                    String.format("property '%s' appears twice in %s", name, path()));
        }
        if (name.equals("phandle")) registerPhandle(value);
        int nameOffset = intern(name);
        struct.u32(FDT_PROP);
        struct.u32(value.length);
        struct.u32(nameOffset);
        struct.bytes(value);
        struct.align4();
        checkSize();
    }

    public void propertyNull(String name) {
        property(name, new byte[0]);
    }

    /** A NUL-terminated UTF-8 string; the string itself must not contain NUL. */
    public void propertyString(String name, String value) {
        property(name, cString(name, value));
    }

    /** Concatenated NUL-terminated strings, e.g. a {@code compatible} list, most specific first. */
    public void propertyStringList(String name, List<String> values) {
        ByteBuf b = new ByteBuf();
        for (String v : values) b.bytes(cString(name, v));
        property(name, b.toArray());
    }

    public void propertyStringList(String name, String... values) {
        propertyStringList(name, Arrays.asList(values));
    }

    public void propertyU32(String name, int value) {
        property(name, new ByteBuf().u32(value).toArray());
    }

    public void propertyU64(String name, long value) {
        property(name, new ByteBuf().u64(value).toArray());
    }

    public void propertyArrayU32(String name, int... cells) {
        ByteBuf b = new ByteBuf();
        for (int c : cells) b.u32(c);
        property(name, b.toArray());
    }

    public void propertyArrayU64(String name, long... values) {
        ByteBuf b = new ByteBuf();
        for (long v : values) b.u64(v);
        property(name, b.toArray());
    }

    /**
     * Adds {@code phandle = <value>}; values must be unique in the tree and not 0 or 0xffffffff.
     */
    public void propertyPhandle(int value) {
        propertyU32("phandle", value);
    }

    /** Checks the tree is complete and returns the blob. The writer cannot be used afterwards. */
    public byte[] finish() {
        checkNotFinished();
        if (!open.isEmpty()) {
            throw new FdtException(
                    Kind.UNCLOSED_NODE,
                    "finish() with node " + path() + " still open: end every node first");
        }
        if (!rootClosed) {
            throw new FdtException(
                    Kind.MISSING_ROOT_NODE, "finish() on an empty tree: begin and end a root node");
        }
        struct.u32(FDT_END);
        checkSize();
        finished = true;

        int offRsvmap = HEADER_SIZE; // 40 is already 8-aligned, as the reservation block must be
        int offStruct = offRsvmap + 16 * (reservations.size() + 1);
        int offStrings = offStruct + struct.size();
        int total = offStrings + strings.size();
        ByteBuf out = new ByteBuf();
        out.u32(MAGIC)
                .u32(total)
                .u32(offStruct)
                .u32(offStrings)
                .u32(offRsvmap)
                .u32(VERSION)
                .u32(LAST_COMP_VERSION)
                .u32(bootCpuidPhys)
                .u32(strings.size())
                .u32(struct.size());
        for (FdtReserveEntry r : reservations) out.u64(r.address()).u64(r.size());
        out.u64(0).u64(0);
        out.bytes(struct.toArray());
        out.bytes(strings.toArray());
        return out.toArray();
    }

    private void registerPhandle(byte[] value) {
        if (value.length != 4) {
            throw new FdtException(
                    Kind.INVALID_PHANDLE,
                    String.format(
                            "phandle in %s is %d bytes long; it must be one 32-bit cell",
                            path(), value.length));
        }
        int v =
                ((value[0] & 0xff) << 24)
                        | ((value[1] & 0xff) << 16)
                        | ((value[2] & 0xff) << 8)
                        | (value[3] & 0xff);
        if (v == 0 || v == -1) {
            throw new FdtException(
                    Kind.INVALID_PHANDLE,
                    String.format(
                            "phandle 0x%x in %s is reserved (0 and 0xffffffff are not valid)",
                            v, path()));
        }
        if (!phandles.add(v)) {
            throw new FdtException(
                    Kind.DUPLICATE_PHANDLE,
                    String.format("phandle 0x%x in %s is already used by another node", v, path()));
        }
    }

    private int intern(String name) {
        Integer known = stringOffsets.get(name);
        if (known != null) return known;
        int offset = strings.size();
        strings.bytes(name.getBytes(StandardCharsets.US_ASCII));
        strings.u8(0);
        for (int i = 0; i < name.length(); i++)
            stringOffsets.putIfAbsent(name.substring(i), offset + i);
        return offset;
    }

    private static byte[] cString(String property, String value) {
        if (value.indexOf('\0') >= 0) {
            throw new FdtException(
                    Kind.INVALID_STRING,
                    String.format(
                            "value of property '%s' contains a NUL character: '%s'",
                            property, printable(value)));
        }
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(utf8, utf8.length + 1);
    }

    private void checkSize() {
        long total =
                (long) HEADER_SIZE
                        + 16L * (reservations.size() + 1)
                        + struct.size()
                        + strings.size();
        if (total > maxTotalSize) {
            throw new FdtException(
                    Kind.TOTAL_SIZE_TOO_LARGE,
                    String.format("device tree exceeds %d bytes at %s", maxTotalSize, path()));
        }
    }

    private void checkNotFinished() {
        if (finished)
            throw new FdtException(Kind.FINISHED, "FdtWriter already finished; start a new one");
    }

    /** Path of the innermost open node, for messages. */
    private String path() {
        if (open.isEmpty()) return "/";
        StringBuilder sb = new StringBuilder();
        for (Iterator<OpenNode> it = open.descendingIterator(); it.hasNext(); ) {
            String n = it.next().token.name();
            if (!n.isEmpty()) sb.append('/').append(n);
        }
        return sb.isEmpty() ? "/" : sb.toString();
    }

    private static String printable(String s) {
        return s.replace("\0", "\\0");
    }

    /** Minimal big-endian byte builder; ByteArrayOutputStream lacks u32/u64/align. */
    private static final class ByteBuf {
        private byte[] buf = new byte[256];
        private int size;

        int size() {
            return size;
        }

        ByteBuf u8(int v) {
            ensure(1);
            buf[size++] = (byte) v;
            return this;
        }

        ByteBuf u32(int v) {
            ensure(4);
            for (int shift = 24; shift >= 0; shift -= 8) buf[size++] = (byte) (v >>> shift);
            return this;
        }

        ByteBuf u64(long v) {
            return u32((int) (v >>> 32)).u32((int) v);
        }

        ByteBuf bytes(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
            return this;
        }

        void align4() {
            while ((size & 3) != 0) u8(0);
        }

        byte[] toArray() {
            return Arrays.copyOf(buf, size);
        }

        private void ensure(int n) {
            if (size + n > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
        }
    }
}
