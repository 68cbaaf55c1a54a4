package dev.jvmm.core.virtio.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jvmm.core.memory.SegmentGuestMemory;
import dev.jvmm.core.pci.BarWindow;
import dev.jvmm.core.pci.MsiMessage;
import dev.jvmm.core.pci.MsixTable;
import dev.jvmm.core.pci.PciEcam;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioActivation;
import dev.jvmm.core.virtio.VirtioDevice;
import java.util.HashMap;
import java.util.Map;

/**
 * Jazzer target for virtio-pci as a hostile guest sees it: fuzzer-chosen ECAM config accesses of
 * any size at any offset (two functions on bus 0, BARs placed anywhere through a {@link
 * BarWindow}), BAR accesses of any size at any offset, status values and guest-RAM scribbles.
 * Function 1 offers MSI-X, so its capability, vector table, PBA and the virtio vector fields are
 * fuzzed too. Invariants: nothing escapes, a BAR is only ever mapped wholly inside the window and
 * never over the other, absent functions read all ones, the status holds only spec bits and the ISR
 * only its two, the routes KVM would hold are exactly the enabled, unmasked vectors with their
 * table messages, a vector is only ever delivered while routed, and INTx stays silent while MSI-X
 * is on.
 */
class PciTransportFuzzTest {
    private static final long RAM = 0x8000_0000L, WINDOW = 0x5000_0000L;
    private static final int[] COMMON = {
        0x00, 0x04, 0x08, 0x0c, 0x10, 0x12, 0x14, 0x15, 0x16, 0x18, 0x1a, 0x1c, 0x1e, 0x20, 0x24,
        0x28, 0x2c, 0x30, 0x34, 0x1000, 0x2000, 0x3000, 0x3004, 0x4000, 0x4008, 0x400c, 0x401c,
        0x402c, 0x4030, 0x5000, 0x5004
    };
    private static final int[] STATUS = {0, 1, 3, 0x0b, 0x0f, 0x80, 0x43, 7, 0xff};

    /** A two-queue device that returns whatever is offered at once, interrupting. */
    private static final class Sink implements VirtioDevice {
        volatile VirtioActivation a;

        @Override
        public int deviceType() {
            return Virtio.ID_RNG;
        }

        @Override
        public long deviceFeatures() {
            return 0;
        }

        @Override
        public int queueCount() {
            return 2;
        }

        @Override
        public int maxQueueSize() {
            return 64;
        }

        @Override
        public int configSize() {
            return 8;
        }

        @Override
        public void readConfig(int offset, byte[] data) {}

        @Override
        public void activate(VirtioActivation activation) {
            a = activation;
        }

        @Override
        public void queueNotify(int queue) {
            VirtioActivation act = a;
            if (act == null) return;
            var q = act.queue(queue);
            for (var c = q.pop(); c != null; c = q.pop()) q.addUsed(c, 0);
            q.notifyGuest();
        }

        @Override
        public void reset() {
            a = null;
        }

        @Override
        public void close() {}
    }

    @FuzzTest(maxDuration = "30s")
    void configSpaceAndBar(FuzzedDataProvider data) {
        SegmentGuestMemory mem = SegmentGuestMemory.onHeap(RAM, 64 * 1024);
        PciEcam ecam = new PciEcam();
        BarWindow window = new BarWindow(WINDOW, 0x8000_0000L);
        Map<String, Long> mapped = new HashMap<>();
        VirtioPciTransport[] t = new VirtioPciTransport[2];
        Map<Integer, MsiMessage> routes = new HashMap<>();
        int[] intx = {0};
        VirtioPciTransport[] withMsix = new VirtioPciTransport[1];
        MsixTable.Sink sink =
                new MsixTable.Sink() {
                    @Override
                    public void routes(Map<Integer, MsiMessage> changed) {
                        changed.forEach(
                                (v, m) -> {
                                    if (m == null) routes.remove(v);
                                    else routes.put(v, m);
                                });
                    }

                    @Override
                    public void fire(int vector) {
                        assertTrue(routes.containsKey(vector), "fired while unrouted: " + vector);
                    }
                };
        for (int i = 0; i < 2; i++) {
            String name = "f" + i;
            t[i] =
                    i == 0
                            ? new VirtioPciTransport(new Sink(), mem, () -> {})
                            : new VirtioPciTransport(
                                    new Sink(),
                                    0,
                                    mem,
                                    () -> {
                                        intx[0]++;
                                        assertFalse(
                                                withMsix[0].msix().enabled(), "INTx with MSI-X");
                                    },
                                    sink);
            t[i].header()
                    .setBarListener(
                            window.listener(
                                    name,
                                    VirtioPciLayout.BAR_SIZE,
                                    new BarWindow.Mapping() {
                                        @Override
                                        public void map(long base) {
                                            mapped.put(name, base);
                                        }

                                        @Override
                                        public void unmap(long base) {
                                            assertEquals(base, mapped.remove(name));
                                        }
                                    }));
            ecam.attach(i * 5, t[i].header());
        }
        withMsix[0] = t[1];
        MsixTable table = t[1].msix();
        for (int ops = 0; ops < 300 && data.remainingBytes() > 0; ops++) {
            int size = data.pickValue(new int[] {1, 2, 4, 8});
            VirtioPciTransport f = t[data.consumeInt(0, 1)];
            switch (data.consumeInt(0, 6)) {
                case 0 -> ecam.read(ecamOffset(data), new byte[size]);
                case 1 -> ecam.write(ecamOffset(data), bytes(data, size));
                case 2 -> f.bar().read(barOffset(data), new byte[size]);
                case 3 -> f.bar().write(barOffset(data), bytes(data, size));
                case 4 -> f.bar().write(0x14, new byte[] {(byte) data.pickValue(STATUS)});
                case 5 -> {
                    // a device interrupt: a used buffer on a queue, or a config change
                    int q = data.consumeInt(-1, 1);
                    VirtioActivation act = ((Sink) f.core().device()).a;
                    if (act != null && q < 0) act.configChanged();
                    else f.notifyQueue(Math.max(q, 0));
                }
                default ->
                        mem.writeByte(RAM + data.consumeInt(0, 64 * 1024 - 1), data.consumeByte());
            }
            for (VirtioPciTransport x : t) {
                assertEquals(0, x.core().status() & ~0xcf);
                assertEquals(0, x.core().interruptStatus() & ~3);
            }
            for (long base : mapped.values()) {
                assertTrue(base >= WINDOW && base + VirtioPciLayout.BAR_SIZE <= 0x8000_0000L);
            }
            if (mapped.size() == 2) {
                long a = mapped.get("f0"), b = mapped.get("f1");
                assertTrue(a + VirtioPciLayout.BAR_SIZE <= b || b + VirtioPciLayout.BAR_SIZE <= a);
            }
            assertEquals(-1, ecam.read32(1 << 15), "device 1 is absent");
            for (int v = 0; v < table.vectors(); v++) {
                MsiMessage m = table.routed(v);
                assertEquals(m, routes.get(v), "KVM's route for vector " + v);
                boolean on = (table.control() & 0xc000) == MsixTable.CONTROL_ENABLE;
                byte[] ctrl = new byte[4];
                t[1].bar().read(VirtioPciLayout.MSIX_TABLE + v * 16L + 12, ctrl);
                assertEquals(on && (ctrl[0] & 1) == 0, m != null, "routed iff on and unmasked");
            }
            int vec = (int) le(t[1].bar(), 0x10);
            assertTrue(vec == 0xffff || vec < table.vectors(), "msix_config " + vec);
        }
        for (VirtioPciTransport x : t) x.close();
    }

    private static long le(dev.jvmm.core.device.MmioDevice bar, int off) {
        byte[] d = new byte[2];
        bar.read(off, d);
        return (d[0] & 0xff) | (d[1] & 0xff) << 8;
    }

    private static byte[] bytes(FuzzedDataProvider data, int size) {
        byte[] b = data.consumeBytes(size);
        return b.length == size ? b : new byte[size];
    }

    private static long ecamOffset(FuzzedDataProvider data) {
        int device = data.pickValue(new int[] {0, 5, 1, 31});
        int reg =
                data.consumeBoolean()
                        ? data.pickValue(new int[] {0x04, 0x10, 0x3c, 0x40, 0x50, 0x84, 0x86})
                        : data.consumeInt(0, 0xfff);
        long bus = data.consumeInt(0, 20) == 0 ? data.consumeInt(1, 255) : 0;
        return bus << 20 | (long) device << 15 | reg;
    }

    private static long barOffset(FuzzedDataProvider data) {
        return data.consumeBoolean()
                ? data.pickValue(COMMON)
                : data.consumeLong(0, VirtioPciLayout.BAR_SIZE - 1);
    }
}
