package dev.jvmm.core.virtio;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Jazzer target for the virtio-mmio register interface: a sequence of fuzzer-chosen register reads
 * and writes of any size at any offset, status values, queue notifications and guest-RAM scribbles
 * against a two-queue test device. Invariants: nothing escapes, the status register only holds spec
 * bits, NEEDS_RESET shows in it when set, InterruptStatus only holds its two bits.
 */
class MmioTransportFuzzTest {
    private static final int[] REGISTERS = {
        0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x20, 0x24, 0x30, 0x34, 0x38, 0x44, 0x50, 0x60, 0x64,
        0x70, 0x80, 0x84, 0x90, 0x94, 0xa0, 0xa4, 0xac, 0xb0, 0xfc, 0x100, 0x104
    };
    private static final int[] STATUS = {0, 1, 3, 0x0b, 0x0f, 0x80, 0x43, 7, 0xff};

    @FuzzTest(maxDuration = "30s")
    void registers(FuzzedDataProvider data) {
        LoopbackDevice dev = new LoopbackDevice(2, 64);
        GuestDriver g = new GuestDriver(dev, 64 * 1024);
        VirtioMmioTransport t = g.transport;
        for (int ops = 0; ops < 300 && data.remainingBytes() > 0; ops++) {
            switch (data.consumeInt(0, 6)) {
                case 0 -> t.read(offset(data), new byte[data.pickValue(new int[] {1, 2, 4, 8})]);
                case 1 -> {
                    byte[] v = data.consumeBytes(data.pickValue(new int[] {1, 2, 4, 8}));
                    t.write(offset(data), v.length == 0 ? new byte[1] : v);
                }
                case 2 -> g.w32(0x70, data.pickValue(STATUS));
                case 3 -> t.notifyQueue(data.consumeInt(-1, 3));
                case 4 ->
                        g.mem.writeByte(
                                GuestDriver.RAM_BASE + data.consumeInt(0, 64 * 1024 - 1),
                                data.consumeByte());
                case 5 -> {
                    int q = data.consumeInt(0, 2);
                    g.programQueue(
                            q,
                            data.pickValue(new int[] {0, 1, 16, 64, 65, data.consumeInt()}),
                            GuestDriver.RAM_BASE + data.consumeInt(-16, 0x8000),
                            GuestDriver.RAM_BASE + data.consumeInt(-2, 0x9000),
                            GuestDriver.RAM_BASE + data.consumeInt(-4, 0xa000));
                }
                default -> g.w32(data.pickValue(REGISTERS), data.consumeInt());
            }
            int status = t.status();
            assertEquals(0, status & ~0xcf, "status 0x" + Integer.toHexString(status));
            assertEquals(t.needsReset(), (g.r32(0x70) & Virtio.STATUS_NEEDS_RESET) != 0);
            assertEquals(0, g.r32(0x60) & ~3);
        }
        t.close();
        assertEquals(1, dev.closes);
    }

    private static long offset(FuzzedDataProvider data) {
        return data.consumeBoolean()
                ? data.pickValue(REGISTERS)
                : data.consumeInt(0, VirtioMmioTransport.REGION_SIZE - 1);
    }
}
