package dev.jvmm.core.virtio;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.GuestMemoryException;
import java.lang.invoke.VarHandle;

/**
 * The device side of one split virtqueue (spec 2.7). {@link #pop} hands out the next validated
 * chain; chains that fail validation are returned to the driver with length 0 and counted, so a
 * device never sees them. Ring-structure corruption (a head index ≥ size, avail.idx more than
 * {@code size} ahead) stops the queue and marks the device NEEDS_RESET: there is no chain to give
 * back and no safe way to go on.
 *
 * <p>All methods are synchronized: several notifier threads may drive one queue, and a reset
 * disables it while a device thread is using it ({@link #pop} then returns null and {@link
 * #addUsed} does nothing).
 */
public final class Virtqueue {
    private final int index;
    private final int size;
    private final long desc;
    private final long avail;
    private final long used;
    private final GuestMemory mem;
    private final boolean indirect;
    private final boolean eventIdx;
    private final VirtioHost host;

    private int nextAvail; // u16 free-running, like the ring indices
    private int nextUsed;
    private int signalledUsed; // used idx at the last interrupt decision
    private boolean broken;
    private boolean disabled;

    Virtqueue(
            int index,
            int size,
            long desc,
            long avail,
            long used,
            GuestMemory mem,
            boolean indirect,
            boolean eventIdx,
            VirtioHost host) {
        String bad = validate(mem, size, Virtio.MAX_QUEUE_SIZE, desc, avail, used);
        if (bad != null) throw new IllegalArgumentException(bad);
        this.index = index;
        this.size = size;
        this.desc = desc;
        this.avail = avail;
        this.used = used;
        this.mem = mem;
        this.indirect = indirect;
        this.eventIdx = eventIdx;
        this.host = host;
    }

    /**
     * Bytes of the three ring parts for {@code size} entries, event-idx fields included (spec 2.7).
     */
    static long descBytes(int size) {
        return 16L * size;
    }

    static long availBytes(int size) {
        return 6L + 2L * size;
    }

    static long usedBytes(int size) {
        return 6L + 8L * size;
    }

    /**
     * Why a queue geometry is unacceptable, or null when it is fine: size 0, not a power of two or
     * above {@code max}; desc/avail/used not 16/2/4-aligned or not wholly inside guest RAM.
     */
    static String validate(GuestMemory mem, int size, int max, long desc, long avail, long used) {
        if (size <= 0 || Integer.bitCount(size) != 1 || size > max) {
            return "queue size " + size + " is not a power of two in [1, " + max + "]";
        }
        if ((desc & 15) != 0 || (avail & 1) != 0 || (used & 3) != 0) {
            return String.format(
                    "ring addresses desc 0x%x avail 0x%x used 0x%x not 16/2/4-aligned",
                    desc, avail, used);
        }
        if (!mem.contains(desc, descBytes(size))
                || !mem.contains(avail, availBytes(size))
                || !mem.contains(used, usedBytes(size))) {
            return String.format(
                    "rings desc 0x%x avail 0x%x used 0x%x (size %d) not inside guest RAM",
                    desc, avail, used, size);
        }
        return null;
    }

    public int index() {
        return index;
    }

    public int size() {
        return size;
    }

    /** True once ring corruption stopped this queue (until the driver resets the device). */
    public synchronized boolean isBroken() {
        return broken;
    }

    /** Chains popped and not yet returned. */
    public synchronized int inFlight() {
        return (nextAvail - nextUsed) & 0xffff;
    }

    /** The used index the device has published (for tests and metrics). */
    public synchronized int usedIndex() {
        return nextUsed;
    }

    /**
     * The next valid chain, or null when none is available, the queue is broken or disabled.
     * Invalid chains on the way are returned to the driver with length 0 and counted.
     */
    public synchronized DescriptorChain pop() {
        try {
            while (!broken && !disabled) {
                int pending = pending();
                if (pending == 0 && eventIdx) {
                    // Ask for a notification at the next entry, then look again: the driver may
                    // have added
                    // one between our read and its check of avail_event (spec 2.7.10).
                    mem.writeShort(used + 4 + 8L * size, (short) nextAvail);
                    VarHandle.fullFence();
                    pending = pending();
                }
                if (pending == 0) return null;
                if (pending > size) {
                    stop(
                            VirtioError.AVAIL_INDEX_OVERRUN,
                            "avail.idx is " + pending + " entries ahead of a queue of " + size);
                    return null;
                }
                // A driver has at most `size` buffers outstanding; one re-publishing heads before
                // they come
                // back must wait, so in-flight work (and memory) stays bounded by the queue size
                // (CVE-2016-5403).
                if (((nextAvail - nextUsed) & 0xffff) >= size) return null;
                VarHandle.acquireFence(); // ring entries are read only after the idx that published
                // them
                int head = mem.readShort(avail + 4 + 2L * (nextAvail % size)) & 0xffff;
                nextAvail = (nextAvail + 1) & 0xffff;
                if (head >= size) {
                    stop(
                            VirtioError.HEAD_OUT_OF_RANGE,
                            "avail ring head " + head + " >= queue size " + size);
                    return null;
                }
                try {
                    return ChainWalker.walk(this, mem, desc, size, head, indirect);
                } catch (ChainException e) {
                    host.error(e.kind(), "queue " + index + ": " + e.getMessage());
                    putUsed(head, 0);
                }
            }
            return null;
        } catch (GuestMemoryException | IndexOutOfBoundsException e) {
            stop(VirtioError.GUEST_MEMORY, "queue " + index + ": " + e.getMessage());
            return null;
        }
    }

    private int pending() {
        return ((mem.readShort(avail + 2) & 0xffff) - nextAvail) & 0xffff;
    }

    private void stop(VirtioError kind, String detail) {
        broken = true;
        host.fail(kind, "queue " + index + ": " + detail);
    }

    /**
     * Returns a chain to the driver with {@code len} bytes written into its writable part. Does
     * nothing for a chain of another queue or after a reset. {@code len} is clamped to the chain's
     * writable length, so a device bug cannot make the driver read past its own buffers.
     */
    public synchronized void addUsed(DescriptorChain chain, long len) {
        if (disabled || broken || chain.queue() != this) return;
        putUsed(chain.head(), (int) Math.max(0, Math.min(len, chain.writableLength())));
    }

    private void putUsed(int head, int len) {
        long e = used + 4 + 8L * (nextUsed % size);
        mem.writeInt(e, head);
        mem.writeInt(e + 4, len);
        VarHandle.releaseFence(); // the element is visible before the idx that publishes it
        nextUsed = (nextUsed + 1) & 0xffff;
        mem.writeShort(used + 2, (short) nextUsed);
    }

    /**
     * Interrupts the driver if used buffers were added since the last call and the driver has not
     * suppressed it: VRING_AVAIL_F_NO_INTERRUPT, or with EVENT_IDX the used_event index (spec
     * 2.7.7.2, 2.7.10).
     */
    public void notifyGuest() {
        boolean interrupt;
        synchronized (this) {
            if (disabled || nextUsed == signalledUsed) return;
            try {
                VarHandle.fullFence(); // our used.idx store before the driver's suppression fields
                // are read
                if (eventIdx) {
                    int event = mem.readShort(avail + 4 + 2L * size) & 0xffff;
                    interrupt =
                            ((nextUsed - event - 1) & 0xffff)
                                    < ((nextUsed - signalledUsed) & 0xffff);
                } else {
                    interrupt = (mem.readShort(avail) & Virtio.AVAIL_F_NO_INTERRUPT) == 0;
                }
            } catch (GuestMemoryException | IndexOutOfBoundsException e) {
                interrupt = true;
            }
            signalledUsed = nextUsed;
        }
        if (interrupt) host.usedBuffer(index);
    }

    /**
     * Where the device stands in the rings, for a snapshot of a paused machine. A chain the device
     * popped and still holds (virtio-net's posted receive buffer waiting for a frame) is given
     * back: devices hold only the chains they popped last, untouched, so the restored queue pops
     * them again from the avail ring, and avail and used are level.
     */
    synchronized VirtqueueState saveState() {
        return new VirtqueueState(
                size, true, desc, avail, used, nextUsed, nextUsed, signalledUsed, broken);
    }

    /**
     * Puts a fresh queue, before its device sees it, where a saved one stood (checked by caller).
     */
    synchronized void restoreIndices(VirtqueueState s) {
        nextAvail = s.nextAvail();
        nextUsed = s.nextUsed();
        signalledUsed = s.signalledUsed();
        broken = s.broken();
    }

    /**
     * Transport side of a reset: no more chains, no more used entries. Waits for a pop/addUsed in
     * progress.
     */
    synchronized void disable() {
        disabled = true;
    }

    @Override
    public synchronized String toString() {
        return "virtqueue "
                + index
                + " (size "
                + size
                + ", nextAvail "
                + nextAvail
                + ", used "
                + nextUsed
                + (broken ? ", broken" : "")
                + (disabled ? ", disabled" : "")
                + ")";
    }
}
