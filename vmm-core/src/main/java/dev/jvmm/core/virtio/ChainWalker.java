package dev.jvmm.core.virtio;

import dev.jvmm.core.memory.GuestMemory;

/**
 * Follows one descriptor chain and validates all of it before a device touches any buffer: indices
 * inside the table, at most table-size steps (so a loop ends), no zero-length buffer, no readable
 * buffer after a writable one, a 32-bit total, indirect tables only when negotiated (not nested,
 * not with NEXT, 16-byte entries, at most 65535 of them), and every buffer inside guest RAM. Buffer
 * addresses are checked after the walk, so a chain is judged on its structure first; the descriptor
 * table itself was checked at queue set-up and an indirect table is checked before it is read.
 */
final class ChainWalker {
    /** Spec limit for an indirect table (vm-virtio uses the same bound: a u16 count). */
    static final int MAX_INDIRECT_ENTRIES = 65535;

    static final long MAX_CHAIN_BYTES = 0xFFFF_FFFFL;

    private ChainWalker() {}

    static DescriptorChain walk(
            Virtqueue queue,
            GuestMemory mem,
            long descTable,
            int size,
            int head,
            boolean indirectAllowed)
            throws ChainException {
        long[] addrs = new long[4];
        int[] lens = new int[4];
        int count = 0, readable = 0;
        boolean seenWritable = false, inIndirect = false;
        long total = 0;
        long table = descTable;
        int tableSize = size, idx = head, steps = 0;
        while (true) {
            if (idx >= tableSize) {
                throw new ChainException(
                        VirtioError.NEXT_OUT_OF_RANGE,
                        "descriptor index "
                                + idx
                                + " >= "
                                + (inIndirect ? "indirect table size " : "queue size ")
                                + tableSize);
            }
            if (++steps > tableSize) {
                throw new ChainException(
                        VirtioError.CHAIN_LOOP,
                        "chain from head "
                                + head
                                + " longer than "
                                + tableSize
                                + " descriptors (loop)");
            }
            long d = table + (long) idx * Virtio.DESC_SIZE;
            // two 8-byte reads per descriptor, not four: {addr}, {len, flags, next} (little-endian)
            long addr = mem.readLong(d);
            long lenFlagsNext = mem.readLong(d + 8);
            int len = (int) lenFlagsNext;
            int flags = (int) (lenFlagsNext >>> 32) & 0xffff;
            int next = (int) (lenFlagsNext >>> 48);
            if ((flags & Virtio.DESC_F_INDIRECT) != 0) {
                if (!indirectAllowed) {
                    throw new ChainException(
                            VirtioError.INDIRECT_NOT_NEGOTIATED,
                            "INDIRECT descriptor " + idx + " not negotiated");
                }
                if (inIndirect)
                    throw new ChainException(
                            VirtioError.INDIRECT_NESTED,
                            "indirect descriptor inside an indirect table");
                if ((flags & Virtio.DESC_F_NEXT) != 0) {
                    throw new ChainException(
                            VirtioError.INDIRECT_WITH_NEXT,
                            "descriptor " + idx + " has both INDIRECT and NEXT");
                }
                long tlen = Integer.toUnsignedLong(len);
                if (tlen == 0
                        || tlen % Virtio.DESC_SIZE != 0
                        || tlen / Virtio.DESC_SIZE > MAX_INDIRECT_ENTRIES) {
                    throw new ChainException(
                            VirtioError.INDIRECT_LENGTH, "indirect table length " + tlen);
                }
                if (!mem.contains(addr, tlen)) {
                    throw new ChainException(
                            VirtioError.ADDRESS_OUT_OF_RANGE,
                            String.format(
                                    "indirect table [0x%x, +0x%x) outside guest RAM", addr, tlen));
                }
                table = addr;
                tableSize = (int) (tlen / Virtio.DESC_SIZE);
                idx = 0;
                steps = 0;
                inIndirect = true;
                continue;
            }
            if (len == 0)
                throw new ChainException(
                        VirtioError.ZERO_LENGTH, "descriptor " + idx + " has length 0");
            boolean writable = (flags & Virtio.DESC_F_WRITE) != 0;
            if (!writable && seenWritable) {
                throw new ChainException(
                        VirtioError.READABLE_AFTER_WRITABLE,
                        "readable descriptor " + idx + " after a writable one");
            }
            seenWritable |= writable;
            total += Integer.toUnsignedLong(len);
            if (total > MAX_CHAIN_BYTES) {
                throw new ChainException(
                        VirtioError.LENGTH_OVERFLOW,
                        "chain from head " + head + " longer than 2^32-1 bytes");
            }
            if (count == addrs.length) {
                addrs = java.util.Arrays.copyOf(addrs, count * 2);
                lens = java.util.Arrays.copyOf(lens, count * 2);
            }
            addrs[count] = addr;
            lens[count] = len;
            count++;
            if (!writable) readable++;
            if ((flags & Virtio.DESC_F_NEXT) == 0) break;
            idx = next;
        }
        for (int i = 0; i < count; i++) {
            if (!mem.contains(addrs[i], Integer.toUnsignedLong(lens[i]))) {
                throw new ChainException(
                        VirtioError.ADDRESS_OUT_OF_RANGE,
                        String.format(
                                "buffer [0x%x, +0x%x) outside guest RAM",
                                addrs[i], Integer.toUnsignedLong(lens[i])));
            }
        }
        return new DescriptorChain(queue, mem, head, addrs, lens, readable, count);
    }
}
