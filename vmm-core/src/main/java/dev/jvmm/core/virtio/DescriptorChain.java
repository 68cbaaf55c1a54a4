package dev.jvmm.core.virtio;

import dev.jvmm.core.memory.GuestMemory;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * One validated descriptor chain: device-readable buffers first, then device-writable ones, every
 * buffer already checked to lie inside guest RAM and the total to fit in 32 bits. Devices see the
 * readable and the writable parts as two byte streams, so they never depend on how the driver split
 * a request across descriptors (VERSION_1 implies ANY_LAYOUT). Return it with {@link
 * Virtqueue#addUsed}.
 */
public final class DescriptorChain {
    private final Virtqueue queue;
    private final GuestMemory memory;
    private final int head;
    private final long[] addrs;
    private final int[] lens;
    private final int readableCount;
    private final int count;
    private final long readableLength;
    private final long writableLength;

    DescriptorChain(
            Virtqueue queue,
            GuestMemory memory,
            int head,
            long[] addrs,
            int[] lens,
            int readableCount,
            int count) {
        this.queue = queue;
        this.memory = memory;
        this.head = head;
        this.addrs = addrs;
        this.lens = lens;
        this.readableCount = readableCount;
        this.count = count;
        long r = 0, w = 0;
        for (int i = 0; i < count; i++) {
            if (i < readableCount) r += Integer.toUnsignedLong(lens[i]);
            else w += Integer.toUnsignedLong(lens[i]);
        }
        this.readableLength = r;
        this.writableLength = w;
    }

    Virtqueue queue() {
        return queue;
    }

    /** Index of the chain's first descriptor: the id the used ring reports. */
    public int head() {
        return head;
    }

    /** Number of buffers (after following any indirect table). */
    public int bufferCount() {
        return count;
    }

    /** Number of device-readable buffers; they come first. */
    public int readableCount() {
        return readableCount;
    }

    public long bufferAddress(int i) {
        return addrs[i];
    }

    public long bufferLength(int i) {
        return Integer.toUnsignedLong(lens[i]);
    }

    public boolean isWritable(int i) {
        return i >= readableCount;
    }

    /** Total bytes the device may read. */
    public long readableLength() {
        return readableLength;
    }

    /** Total bytes the device may write. */
    public long writableLength() {
        return writableLength;
    }

    /**
     * Copies up to {@code len} bytes of the readable stream from {@code pos}; returns how many were
     * copied.
     */
    public int read(long pos, byte[] dst, int off, int len) {
        int done = 0;
        for (MemorySegment s : slices(0, readableCount, pos, len)) {
            int n = (int) s.byteSize();
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 0, dst, off + done, n);
            done += n;
        }
        return done;
    }

    /**
     * Copies up to {@code len} bytes into the writable stream at {@code pos}; returns how many were
     * copied.
     */
    public int write(long pos, byte[] src, int off, int len) {
        int done = 0;
        for (MemorySegment s : slices(readableCount, count, pos, len)) {
            int n = (int) s.byteSize();
            MemorySegment.copy(src, off + done, s, ValueLayout.JAVA_BYTE, 0, n);
            done += n;
        }
        return done;
    }

    /**
     * Guest memory views of [pos, pos+len) of the readable stream, clipped to its end (for
     * zero-copy I/O).
     */
    public List<MemorySegment> readableSlices(long pos, long len) {
        return slices(0, readableCount, pos, len);
    }

    /**
     * Guest memory views of [pos, pos+len) of the writable stream, clipped to its end (for
     * zero-copy I/O).
     */
    public List<MemorySegment> writableSlices(long pos, long len) {
        return slices(readableCount, count, pos, len);
    }

    private List<MemorySegment> slices(int from, int to, long pos, long len) {
        List<MemorySegment> out = new ArrayList<>(2);
        if (pos < 0 || len <= 0) return out;
        long skip = pos, want = len;
        for (int i = from; i < to && want > 0; i++) {
            long l = Integer.toUnsignedLong(lens[i]);
            if (skip >= l) {
                skip -= l;
                continue;
            }
            long n = Math.min(l - skip, want);
            out.add(memory.slice(addrs[i] + skip, n));
            want -= n;
            skip = 0;
        }
        return out;
    }

    @Override
    public String toString() {
        return "chain(head="
                + head
                + ", "
                + count
                + " buffers, r="
                + readableLength
                + ", w="
                + writableLength
                + ")";
    }
}
