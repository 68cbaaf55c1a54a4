package dev.jvmm.core.virtio;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jvmm.core.memory.SegmentGuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Jazzer target for the split-ring walk (crosvm's virtqueue target, smaller): the input becomes
 * guest RAM holding descriptor table, avail ring and buffers; every chain popped is read and
 * written in full. No exception may escape, every buffer handed out lies in RAM, and the work is
 * bounded by the ring sizes. A plain {@code mvn verify} replays {@code
 * VirtqueueFuzzTestInputs/walk/}; {@code JAZZER_FUZZ=1} fuzzes.
 */
class VirtqueueFuzzTest {
    static final long BASE = 0x4000_0000L;
    static final int RAM = 64 * 1024;

    /** Counts what the queue reports; never throws. */
    static final class Host implements VirtioHost {
        int errors, fails, used, config;

        @Override
        public void error(VirtioError kind, String detail) {
            errors++;
        }

        @Override
        public void fail(VirtioError kind, String detail) {
            fails++;
        }

        @Override
        public void usedBuffer(int queue) {
            used++;
        }

        @Override
        public void configChanged() {
            config++;
        }
    }

    @FuzzTest(maxDuration = "30s")
    void walk(byte[] input) {
        if (input.length < 4) return;
        ByteBuffer in = ByteBuffer.wrap(input).order(ByteOrder.LITTLE_ENDIAN);
        int size = 1 << (in.get(0) & 7); // 1..128 entries
        int flags = in.get(1);
        boolean indirect = (flags & 1) != 0, eventIdx = (flags & 2) != 0;
        SegmentGuestMemory mem = SegmentGuestMemory.onHeap(BASE, RAM);
        byte[] ram = new byte[RAM];
        System.arraycopy(input, 2, ram, 0, Math.min(input.length - 2, RAM));
        mem.write(BASE, ram);
        long desc = BASE, avail = BASE + 16L * size, used = (avail + 6 + 2L * size + 3) & ~3L;
        Host host = new Host();
        Virtqueue q = new Virtqueue(0, size, desc, avail, used, mem, indirect, eventIdx, host);
        int chains = 0;
        byte[] scratch = new byte[4096];
        for (DescriptorChain c; (c = q.pop()) != null; ) {
            chains++;
            assertTrue(chains <= size, "more chains than the queue holds");
            assertTrue(c.bufferCount() <= size + ChainWalker.MAX_INDIRECT_ENTRIES);
            assertTrue(c.readableLength() + c.writableLength() <= ChainWalker.MAX_CHAIN_BYTES);
            for (int i = 0; i < c.bufferCount(); i++)
                assertTrue(mem.contains(c.bufferAddress(i), c.bufferLength(i)));
            for (long p = 0; p < c.readableLength(); p += scratch.length)
                c.read(p, scratch, 0, scratch.length);
            for (long p = 0; p < c.writableLength(); p += scratch.length)
                c.write(p, scratch, 0, scratch.length);
            q.addUsed(c, c.writableLength());
        }
        q.notifyGuest();
        assertTrue(host.fails <= 1, "a stopped queue reported twice");
        assertTrue(host.used <= 1);
        assertNull(q.pop());
    }
}
