package dev.jvmm.core.pci;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A function's MSI-X state (PCI Local Bus 3.0, 6.8.2): the vector table (16 bytes per vector:
 * message address low and high, message data, vector control with its mask bit), the pending-bit
 * array, and the capability's enable and function-mask bits.
 *
 * <p>A vector is <em>routed</em> while MSI-X is enabled, the function is not masked and the vector
 * is not masked; the {@link Sink} hears every change of the routed set (with the message), so a
 * guest's rewrite of an entry, a mask or an unmask re-routes it. A vector that fires while masked
 * sets its pending bit and is delivered (the bit cleared) once it is routed again, as the spec
 * asks. New vectors are masked, as after reset.
 *
 * <p>A delivery is not always done when {@link Sink#fire} returns: KVM may inject an irqfd's MSI
 * from a work item, and that looks the route up only when it runs, so a vector masked (its route
 * removed) just after it fired could lose the interrupt. A vector that fired while routed therefore
 * leaves its pending bit set when it is unrouted by a mask (not by disabling MSI-X): the unmask
 * delivers it again, at worst once more than needed, which a driver takes as a spurious interrupt
 * (virtio's find nothing new in the used ring), where losing it could stall a queue for good.
 *
 * <p>Guest accesses are 4 bytes aligned to 4 or 8 bytes aligned to 8 (the spec's DWORD and QWORD)
 * inside the table or the PBA; anything else reads zeros, writes nothing and returns false, for the
 * caller to count. The PBA is read-only. Nothing here throws on guest input.
 */
public final class MsixTable {
    /** Where routed vectors go: an MSI route per vector, and a delivery. */
    public interface Sink {
        /**
         * Vectors whose routing changed, each to its message or to null (no longer routed), in
         * vector order; called with this table's lock held, once per guest access.
         */
        void routes(Map<Integer, MsiMessage> changed);

        /** Delivers {@code vector}, which is routed. Must not block for long. */
        void fire(int vector);
    }

    public static final int ENTRY_SIZE = 16;

    /** Message Control bits of the capability. */
    public static final int CONTROL_ENABLE = 0x8000, CONTROL_FUNCTION_MASK = 0x4000;

    /** The spec's maximum table size (Table Size is an 11-bit N-1). */
    public static final int MAX_VECTORS = 2048;

    private static final int VECTOR_MASKED = 1;

    private final int vectors;
    private final Sink sink;
    private final long[] address;
    private final int[] data;
    private final int[] control;
    private final long[] pending;
    private final MsiMessage[] routed;
    private final boolean[] firedWhileRouted;
    private boolean enabled;
    private boolean functionMasked;

    public MsixTable(int vectors, Sink sink) {
        if (vectors < 1 || vectors > MAX_VECTORS)
            throw new IllegalArgumentException("MSI-X table size " + vectors);
        this.vectors = vectors;
        this.sink = sink;
        this.address = new long[vectors];
        this.data = new int[vectors];
        this.control = new int[vectors];
        this.pending = new long[(vectors + 63) / 64];
        this.routed = new MsiMessage[vectors];
        this.firedWhileRouted = new boolean[vectors];
        Arrays.fill(control, VECTOR_MASKED);
    }

    public int vectors() {
        return vectors;
    }

    /** Bytes of the vector table. */
    public int tableBytes() {
        return vectors * ENTRY_SIZE;
    }

    /** Bytes of the pending-bit array: whole QWORDs. */
    public int pbaBytes() {
        return pending.length * 8;
    }

    /** Message Control as the guest reads it: enable, function mask, Table Size (N - 1). */
    public synchronized int control() {
        return (enabled ? CONTROL_ENABLE : 0)
                | (functionMasked ? CONTROL_FUNCTION_MASK : 0)
                | (vectors - 1);
    }

    /** A guest write of Message Control: only enable and function mask are writable. */
    public synchronized void writeControl(int v) {
        enabled = (v & CONTROL_ENABLE) != 0;
        functionMasked = (v & CONTROL_FUNCTION_MASK) != 0;
        update();
    }

    /** MSI-X is enabled: the function signals through the table, never through INTx. */
    public synchronized boolean enabled() {
        return enabled;
    }

    /**
     * The function wants to interrupt on {@code vector}. Returns false when MSI-X is disabled (the
     * caller uses INTx); otherwise the vector is delivered, or marked pending while masked, or (out
     * of range) dropped.
     */
    public synchronized boolean trigger(int vector) {
        if (!enabled) return false;
        if (vector < 0 || vector >= vectors) return true;
        if (routed[vector] == null) {
            pending[vector / 64] |= 1L << (vector % 64);
        } else {
            firedWhileRouted[vector] = true;
            sink.fire(vector);
        }
        return true;
    }

    /** The vector's pending bit. */
    public synchronized boolean pending(int vector) {
        return vector >= 0 && vector < vectors && (pending[vector / 64] & 1L << (vector % 64)) != 0;
    }

    /** The message {@code vector} is routed with now, or null. */
    public synchronized MsiMessage routed(int vector) {
        return vector >= 0 && vector < vectors ? routed[vector] : null;
    }

    /** A guest read in the table at {@code offset}; false (zeros read) for a bad access. */
    public synchronized boolean readTable(long offset, byte[] out) {
        Arrays.fill(out, (byte) 0);
        if (!valid(offset, out.length, tableBytes())) return false;
        long v = tableDword(offset);
        if (out.length == 8) v |= tableDword(offset + 4) << 32;
        put(out, v);
        return true;
    }

    /** A guest write in the table at {@code offset}; false (nothing written) for a bad access. */
    public synchronized boolean writeTable(long offset, byte[] in) {
        if (!valid(offset, in.length, tableBytes())) return false;
        long v = 0;
        for (int i = 0; i < in.length; i++) v |= (in[i] & 0xffL) << (8 * i);
        setTableDword(offset, (int) v);
        if (in.length == 8) setTableDword(offset + 4, (int) (v >>> 32));
        update();
        return true;
    }

    /** A guest read in the pending-bit array; false (zeros read) for a bad access. */
    public synchronized boolean readPba(long offset, byte[] out) {
        Arrays.fill(out, (byte) 0);
        if (!valid(offset, out.length, pbaBytes())) return false;
        long q = pending[(int) (offset / 8)];
        put(out, (offset & 4) != 0 ? q >>> 32 : q);
        return true;
    }

    /**
     * What a snapshot keeps of the table: Message Control's two bits, every entry as the guest
     * wrote it, and the pending bits. The routes are not kept: they follow from these.
     *
     * @param pending the PBA's QWORDs
     */
    public record State(
            boolean enabled, boolean functionMasked, List<Entry> entries, List<Long> pending) {}

    /** One vector's entry: message address, message data, vector control (bit 0: masked). */
    public record Entry(long address, int data, int control) {}

    public synchronized State saveState() {
        List<Entry> entries = new ArrayList<>(vectors);
        for (int v = 0; v < vectors; v++) entries.add(new Entry(address[v], data[v], control[v]));
        List<Long> pba = new ArrayList<>(pending.length);
        for (long p : pending) pba.add(p);
        return new State(enabled, functionMasked, entries, pba);
    }

    /** Why {@code s} cannot be this table's state (sizes, reserved bits), or null when it can. */
    public String stateProblem(State s) {
        if (s.entries() == null || s.entries().size() != vectors)
            return "the MSI-X table has "
                    + vectors
                    + " vectors, the snapshot "
                    + (s.entries() == null ? "none" : s.entries().size());
        if (s.pending() == null || s.pending().size() != pending.length)
            return "the MSI-X PBA has " + pending.length + " QWORDs, the snapshot another count";
        for (int v = 0; v < vectors; v++) {
            Entry e = s.entries().get(v);
            if (e == null) return "MSI-X vector " + v + " is empty";
            if ((e.control() & ~VECTOR_MASKED) != 0)
                return "MSI-X vector "
                        + v
                        + " has reserved control bits 0x"
                        + Integer.toHexString(e.control());
        }
        for (int q = 0; q < pending.length; q++) {
            Long p = s.pending().get(q);
            if (p == null) return "MSI-X PBA QWORD " + q + " is empty";
            long beyond = q == pending.length - 1 && vectors % 64 != 0 ? -1L << (vectors % 64) : 0;
            if ((p & beyond) != 0) return "MSI-X PBA has bits beyond vector " + (vectors - 1);
        }
        return null;
    }

    /**
     * Puts a checked state ({@link #stateProblem} is null) into this table and routes what it
     * routes, before any vCPU runs. A saved pending bit belongs to a vector that was not routed, so
     * nothing is delivered here.
     */
    public synchronized void restoreState(State s) {
        enabled = s.enabled();
        functionMasked = s.functionMasked();
        for (int v = 0; v < vectors; v++) {
            Entry e = s.entries().get(v);
            address[v] = e.address();
            data[v] = e.data();
            control[v] = e.control();
        }
        for (int q = 0; q < pending.length; q++) pending[q] = s.pending().get(q);
        update();
    }

    /**
     * Function reset: disabled, unmasked function, every vector masked and zero, nothing pending.
     */
    public synchronized void reset() {
        enabled = false;
        functionMasked = false;
        Arrays.fill(address, 0);
        Arrays.fill(data, 0);
        Arrays.fill(control, VECTOR_MASKED);
        Arrays.fill(pending, 0);
        Arrays.fill(firedWhileRouted, false);
        update();
    }

    private static boolean valid(long offset, int size, int limit) {
        return (size == 4 || size == 8)
                && offset >= 0
                && offset % size == 0
                && offset <= limit - size; // no overflow for offsets near Long.MAX_VALUE
    }

    private long tableDword(long offset) {
        int v = (int) (offset / ENTRY_SIZE);
        return switch ((int) (offset % ENTRY_SIZE)) {
            case 0 -> address[v] & 0xffff_ffffL;
            case 4 -> address[v] >>> 32;
            case 8 -> data[v] & 0xffff_ffffL;
            default -> control[v] & 0xffff_ffffL;
        };
    }

    private void setTableDword(long offset, int value) {
        int v = (int) (offset / ENTRY_SIZE);
        switch ((int) (offset % ENTRY_SIZE)) {
            case 0 -> address[v] = (address[v] & ~0xffff_ffffL) | (value & 0xffff_ffffL);
            case 4 -> address[v] = (address[v] & 0xffff_ffffL) | (long) value << 32;
            case 8 -> data[v] = value;
            default -> control[v] = value & VECTOR_MASKED; // the other bits are reserved
        }
    }

    /** Tells the sink what changed in the routed set, then delivers what was pending and may go. */
    private void update() {
        Map<Integer, MsiMessage> changed = new LinkedHashMap<>();
        for (int v = 0; v < vectors; v++) {
            boolean go = enabled && !functionMasked && (control[v] & VECTOR_MASKED) == 0;
            MsiMessage m = go ? new MsiMessage(address[v], data[v]) : null;
            if (!java.util.Objects.equals(m, routed[v])) {
                // masked after firing: the last delivery may not have been injected yet
                if (m == null && enabled && firedWhileRouted[v]) pending[v / 64] |= 1L << (v % 64);
                firedWhileRouted[v] = false;
                routed[v] = m;
                changed.put(v, m);
            }
        }
        if (!changed.isEmpty()) sink.routes(changed);
        for (int v = 0; v < vectors; v++) {
            if (routed[v] != null && (pending[v / 64] & 1L << (v % 64)) != 0) {
                pending[v / 64] &= ~(1L << (v % 64));
                firedWhileRouted[v] = true;
                sink.fire(v);
            }
        }
    }

    private static void put(byte[] out, long v) {
        for (int i = 0; i < out.length; i++) out[i] = (byte) (v >>> (8 * i));
    }
}
