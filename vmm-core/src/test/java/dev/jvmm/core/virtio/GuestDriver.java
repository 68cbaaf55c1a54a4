package dev.jvmm.core.virtio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.SegmentGuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test-side virtio driver: lays out split rings and descriptor chains in heap guest memory and
 * drives a {@link VirtioMmioTransport} only through its MMIO registers, as a guest kernel would.
 */
public final class GuestDriver {
    public static final long RAM_BASE = 0x8000_0000L;

    public final SegmentGuestMemory mem;
    public final VirtioMmioTransport transport;
    public final AtomicInteger interrupts = new AtomicInteger();
    private final long heapStart;
    private long next;
    private final Ring[] rings;

    /** Driver-side state of one ring. */
    public static final class Ring {
        public long desc, avail, used;
        public int size;
        int freeDesc;
        int availIdx;
        int lastUsed;
    }

    public record Buf(long addr, int len, boolean writable) {}

    public record Used(int id, int len) {}

    public GuestDriver(VirtioDevice device) {
        this(device, 4 << 20);
    }

    public GuestDriver(VirtioDevice device, int ramBytes) {
        this(device, ramBytes, m -> m);
    }

    /**
     * {@code view} wraps the memory the transport sees (e.g. to record which addresses it touches).
     */
    public GuestDriver(
            VirtioDevice device, int ramBytes, java.util.function.UnaryOperator<GuestMemory> view) {
        this(device, ramBytes, view, 0);
    }

    /** A driver of a transport whose register window is at {@code base} (its snapshot key). */
    public GuestDriver(VirtioDevice device, long base) {
        this(device, 4 << 20, m -> m, base);
    }

    private GuestDriver(
            VirtioDevice device,
            int ramBytes,
            java.util.function.UnaryOperator<GuestMemory> view,
            long base) {
        mem = SegmentGuestMemory.onHeap(RAM_BASE, ramBytes);
        transport =
                new VirtioMmioTransport(device, base, view.apply(mem), interrupts::incrementAndGet);
        rings = new Ring[device.queueCount()];
        heapStart = next = RAM_BASE + 0x1000;
    }

    private GuestDriver(GuestDriver from, VirtioDevice device, long base) {
        mem = SegmentGuestMemory.onHeap(RAM_BASE, (int) from.mem.size());
        byte[] ram = new byte[(int) from.mem.size()];
        from.mem.read(RAM_BASE, ram);
        mem.write(RAM_BASE, ram);
        transport = new VirtioMmioTransport(device, base, mem, interrupts::incrementAndGet);
        heapStart = from.heapStart;
        next = from.next;
        rings = new Ring[from.rings.length];
        for (int q = 0; q < rings.length; q++) {
            Ring f = from.rings[q];
            if (f == null) continue;
            Ring r = new Ring();
            rings[q] = r;
            r.desc = f.desc;
            r.avail = f.avail;
            r.used = f.used;
            r.size = f.size;
            r.freeDesc = f.freeDesc;
            r.availIdx = f.availIdx;
            r.lastUsed = f.lastUsed;
        }
    }

    /**
     * The destination of a snapshot: a fresh transport at {@code base} for {@code device} over a
     * copy of this driver's RAM, with this driver's view of its rings, so a test restores the
     * transport and then goes on driving it where this one stopped.
     */
    public GuestDriver copyFor(VirtioDevice device, long base) {
        return new GuestDriver(this, device, base);
    }

    // ---- registers ----

    public int r32(int off) {
        byte[] d = new byte[4];
        transport.read(off, d);
        return ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    public void w32(int off, int v) {
        transport.write(
                off, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    public byte[] readConfig(int off, int len) {
        byte[] d = new byte[len];
        transport.read(VirtioMmioTransport.CONFIG_OFFSET + off, d);
        return d;
    }

    public int status() {
        return r32(0x70);
    }

    public long deviceFeatures() {
        w32(0x14, 0);
        long lo = Integer.toUnsignedLong(r32(0x10));
        w32(0x14, 1);
        return lo | ((long) r32(0x10) << 32);
    }

    /**
     * Reset, ACKNOWLEDGE, DRIVER, write {@code features}, FEATURES_OK; returns the status read
     * back.
     */
    public int negotiate(long features) {
        w32(0x70, 0);
        w32(0x70, Virtio.STATUS_ACKNOWLEDGE);
        w32(0x70, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER);
        w32(0x24, 0);
        w32(0x20, (int) features);
        w32(0x24, 1);
        w32(0x20, (int) (features >>> 32));
        w32(0x70, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_FEATURES_OK);
        return status();
    }

    /**
     * Allocates and programs queue {@code q} with {@code size} entries; returns QueueReady as read
     * back.
     */
    public int setupQueue(int q, int size) {
        Ring r = new Ring();
        r.size = size;
        r.desc = alloc(16L * size, 16);
        r.avail = alloc(6L + 2L * size, 2);
        r.used = alloc(6L + 8L * size, 4);
        rings[q] = r;
        return programQueue(q, size, r.desc, r.avail, r.used);
    }

    public int programQueue(int q, int size, long desc, long avail, long used) {
        w32(0x30, q);
        w32(0x38, size);
        w32(0x80, (int) desc);
        w32(0x84, (int) (desc >>> 32));
        w32(0x90, (int) avail);
        w32(0x94, (int) (avail >>> 32));
        w32(0xa0, (int) used);
        w32(0xa4, (int) (used >>> 32));
        w32(0x44, 1);
        return r32(0x44);
    }

    public void driverOk() {
        w32(0x70, status() | Virtio.STATUS_DRIVER_OK);
    }

    /**
     * Full bring-up: negotiate {@code features} (VERSION_1 added), every queue with {@code size}
     * entries, DRIVER_OK.
     */
    public GuestDriver start(long features, int size) {
        int st = negotiate(features | Virtio.bit(Virtio.F_VERSION_1));
        assertEquals(
                Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_FEATURES_OK,
                st,
                "FEATURES_OK refused");
        for (int q = 0; q < rings.length; q++)
            assertEquals(1, setupQueue(q, size), "queue " + q + " not ready");
        driverOk();
        assertEquals(0x0f, status());
        return this;
    }

    public GuestDriver start() {
        return start(0, 16);
    }

    public Ring ring(int q) {
        return rings[q];
    }

    // ---- memory and buffers ----

    public long alloc(long size, int align) {
        long a = (next + align - 1) & -align;
        next = a + size;
        if (next > RAM_BASE + mem.size()) throw new IllegalStateException("test RAM exhausted");
        return a;
    }

    /**
     * Forgets every buffer allocated after the rings (tests that loop many requests reuse memory).
     */
    public void freeBuffersAfter(long mark) {
        next = mark;
    }

    public long mark() {
        return next;
    }

    public Buf out(byte[] data) {
        long a = alloc(data.length, 8);
        mem.write(a, data);
        return new Buf(a, data.length, false);
    }

    /**
     * A writable buffer pre-filled with 0xEE, so tests can see exactly which bytes a device wrote.
     */
    public Buf in(int len) {
        long a = alloc(len, 8);
        byte[] fill = new byte[len];
        java.util.Arrays.fill(fill, (byte) 0xEE);
        mem.write(a, fill);
        return new Buf(a, len, true);
    }

    public byte[] bytes(Buf b) {
        return bytes(b.addr, b.len);
    }

    public byte[] bytes(long addr, int len) {
        byte[] d = new byte[len];
        mem.read(addr, d);
        return d;
    }

    // ---- descriptors and rings ----

    public void writeDesc(long table, int idx, long addr, long len, int flags, int next) {
        long d = table + 16L * idx;
        mem.writeLong(d, addr);
        mem.writeInt(d + 8, (int) len);
        mem.writeShort(d + 12, (short) flags);
        mem.writeShort(d + 14, (short) next);
    }

    /**
     * Writes {@code bufs} as one chain into free descriptor slots, publishes it; returns the head
     * index.
     */
    public int submit(int q, Buf... bufs) {
        Ring r = rings[q];
        int head = r.freeDesc % r.size;
        for (int i = 0; i < bufs.length; i++) {
            int idx = (r.freeDesc + i) % r.size;
            boolean last = i == bufs.length - 1;
            writeDesc(
                    r.desc,
                    idx,
                    bufs[i].addr,
                    bufs[i].len,
                    (bufs[i].writable ? Virtio.DESC_F_WRITE : 0) | (last ? 0 : Virtio.DESC_F_NEXT),
                    (idx + 1) % r.size);
        }
        r.freeDesc = (r.freeDesc + bufs.length) % r.size;
        publish(q, head);
        return head;
    }

    /** Puts {@code head} in the next avail slot and bumps avail.idx. */
    public void publish(int q, int head) {
        Ring r = rings[q];
        mem.writeShort(r.avail + 4 + 2L * (r.availIdx % r.size), (short) head);
        r.availIdx = (r.availIdx + 1) & 0xffff;
        mem.writeShort(r.avail + 2, (short) r.availIdx);
    }

    public void setAvailIdx(int q, int idx) {
        rings[q].availIdx = idx & 0xffff;
        mem.writeShort(rings[q].avail + 2, (short) idx);
    }

    public void setAvailFlags(int q, int flags) {
        mem.writeShort(rings[q].avail, (short) flags);
    }

    public void setUsedEvent(int q, int idx) {
        mem.writeShort(rings[q].avail + 4 + 2L * rings[q].size, (short) idx);
    }

    public int availEvent(int q) {
        return mem.readShort(rings[q].used + 4 + 8L * rings[q].size) & 0xffff;
    }

    public void kick(int q) {
        w32(VirtioMmioTransport.QUEUE_NOTIFY_OFFSET, q);
    }

    public int usedIdx(int q) {
        return mem.readShort(rings[q].used + 2) & 0xffff;
    }

    /** Used entries published since the last call. */
    public List<Used> used(int q) {
        Ring r = rings[q];
        List<Used> out = new ArrayList<>();
        int idx = usedIdx(q);
        while (r.lastUsed != idx) {
            long e = r.used + 4 + 8L * (r.lastUsed % r.size);
            out.add(new Used(mem.readInt(e), mem.readInt(e + 4)));
            r.lastUsed = (r.lastUsed + 1) & 0xffff;
        }
        return out;
    }

    /** Submits, kicks and returns the one used entry the request produced. */
    public Used request(int q, Buf... bufs) {
        int head = submit(q, bufs);
        kick(q);
        List<Used> u = used(q);
        assertEquals(1, u.size(), "used entries after one request: " + u);
        assertEquals(head, u.get(0).id());
        return u.get(0);
    }

    public long heapStart() {
        return heapStart;
    }
}
