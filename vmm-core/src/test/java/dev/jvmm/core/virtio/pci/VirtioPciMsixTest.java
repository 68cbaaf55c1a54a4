package dev.jvmm.core.virtio.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.memory.SegmentGuestMemory;
import dev.jvmm.core.pci.MsiMessage;
import dev.jvmm.core.pci.MsixCapability;
import dev.jvmm.core.pci.MsixTable;
import dev.jvmm.core.pci.PciHeader;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.StateJson;
import dev.jvmm.core.virtio.DescriptorChain;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioActivation;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.Virtqueue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * virtio-pci with MSI-X, as Linux's virtio_pci_modern drives it: it finds the MSI-X capability
 * after the vendor capabilities, enables MSI-X, gives the configuration and each queue a vector and
 * reads them back (an unknown vector reads NO_VECTOR, so the driver falls back), and from then on
 * each queue interrupts on its own vector and INTx stays silent. Disabled again, INTx is back.
 */
class VirtioPciMsixTest {
    private static final long RAM = 0x8000_0000L;
    private final SegmentGuestMemory mem = SegmentGuestMemory.onHeap(RAM, 1 << 20);
    private final AtomicInteger intx = new AtomicInteger();
    private final List<Integer> fired = new ArrayList<>();
    private final List<Map<Integer, MsiMessage>> routes = new ArrayList<>();
    private final Dev dev = new Dev();
    private final VirtioPciTransport t =
            new VirtioPciTransport(
                    dev,
                    0,
                    mem,
                    intx::incrementAndGet,
                    new MsixTable.Sink() {
                        @Override
                        public void routes(Map<Integer, MsiMessage> changed) {
                            routes.add(new LinkedHashMap<>(changed));
                        }

                        @Override
                        public void fire(int vector) {
                            fired.add(vector);
                        }
                    });

    /** Two queues (entropy-like) that return every buffer at once. */
    private static final class Dev implements VirtioDevice {
        volatile VirtioActivation activation;

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
            return 8;
        }

        @Override
        public int configSize() {
            return 0;
        }

        @Override
        public void readConfig(int offset, byte[] data) {}

        @Override
        public void activate(VirtioActivation a) {
            activation = a;
        }

        @Override
        public void queueNotify(int queue) {
            Virtqueue q = activation.queue(queue);
            for (DescriptorChain c; (c = q.pop()) != null; ) q.addUsed(c, 0);
            q.notifyGuest();
        }

        @Override
        public void reset() {}

        @Override
        public void close() {}
    }

    private long bar(int off, int len) {
        byte[] d = new byte[len];
        t.bar().read(off, d);
        long v = 0;
        for (int i = 0; i < len; i++) v |= (d[i] & 0xffL) << (8 * i);
        return v;
    }

    private void bar(int off, int len, long v) {
        byte[] d = new byte[len];
        for (int i = 0; i < len; i++) d[i] = (byte) (v >>> (8 * i));
        t.bar().write(off, d);
    }

    private int cfg(int off, int size) {
        return t.header().configRead(off, size);
    }

    private int msixCap() {
        for (int pos = cfg(0x34, 1), n = 0; pos != 0 && n < 48; pos = cfg(pos + 1, 1), n++)
            if (cfg(pos, 1) == MsixCapability.ID) return pos;
        return 0;
    }

    private void driverOk() {
        bar(0x14, 1, 1);
        bar(0x14, 1, 3);
        bar(0x08, 4, 1);
        bar(0x0c, 4, 1);
        bar(0x14, 1, 0xb);
        for (int q = 0; q < 2; q++) {
            bar(0x16, 2, q);
            bar(0x18, 2, 8);
            bar(0x20, 8, ring(q));
            bar(0x28, 8, ring(q) + 0x100);
            bar(0x30, 8, ring(q) + 0x200);
            bar(0x1c, 2, 1);
        }
        bar(0x14, 1, 0xf);
        assertEquals(0xf, bar(0x14, 1));
    }

    private static long ring(int q) {
        return RAM + q * 0x1000L;
    }

    /** Offers one buffer on queue {@code q} and kicks it; the device returns it and interrupts. */
    private void request(int q) {
        long desc = ring(q);
        mem.writeLong(desc, RAM + 0x8000);
        mem.writeInt(desc + 8, 16);
        mem.writeShort(desc + 12, (short) 2); // VIRTQ_DESC_F_WRITE
        long av = ring(q) + 0x100;
        int idx = mem.readShort(av + 2) & 0xffff;
        mem.writeShort(av + 4 + 2L * (idx % 8), (short) 0);
        mem.writeShort(av + 2, (short) (idx + 1));
        bar(0x3000 + q * 4, 2, q);
    }

    /** Linux's vp_find_vqs_msix with per-queue vectors: config 0, queue n vector n + 1. */
    private void enableMsix(int cap) {
        t.header()
                .configWrite(
                        cap + 2, 2, MsixTable.CONTROL_ENABLE | MsixTable.CONTROL_FUNCTION_MASK);
        t.header().configWrite(PciHeader.COMMAND, 2, PciHeader.COMMAND_INTX_DISABLE | 6);
        for (int v = 0; v < 3; v++) {
            bar(0x4000 + v * 16, 4, 0x3ffd_0040L);
            bar(0x4000 + v * 16 + 4, 4, 0);
            bar(0x4000 + v * 16 + 8, 4, 0x20 + v);
            bar(0x4000 + v * 16 + 12, 4, 0); // unmask
        }
        t.header().configWrite(cap + 2, 2, MsixTable.CONTROL_ENABLE);
    }

    @Test
    void theCapabilityEndsTheListAndPointsIntoBar0() {
        int cap = msixCap();
        assertEquals(VirtioPciLayout.msixOffset(dev), cap);
        assertEquals(0, cfg(cap + 1, 1), "last");
        assertEquals(2, cfg(cap + 2, 2), "3 vectors: two queues and the configuration");
        assertEquals(VirtioPciLayout.MSIX_TABLE, cfg(cap + 4, 4), "BIR 0");
        assertEquals(VirtioPciLayout.MSIX_PBA, cfg(cap + 8, 4));
        assertTrue(VirtioPciLayout.MSIX_PBA + 8 <= VirtioPciLayout.BAR_SIZE);
        // the vendor capabilities before it are unchanged: 3 of them (no device config)
        int vendor = 0;
        for (int pos = cfg(0x34, 1); pos != cap; pos = cfg(pos + 1, 1)) {
            assertEquals(9, cfg(pos, 1));
            vendor++;
        }
        assertEquals(3, vendor);
    }

    @Test
    void vectorsReadBackAndUnknownOnesReadNoVector() {
        assertEquals(0xffff, bar(0x10, 2), "NO_VECTOR until set");
        bar(0x10, 2, 0);
        assertEquals(0, bar(0x10, 2));
        bar(0x16, 2, 1);
        bar(0x1a, 2, 2);
        assertEquals(2, bar(0x1a, 2));
        bar(0x1a, 2, 3);
        assertEquals(0xffff, bar(0x1a, 2), "vector 3 does not exist");
        bar(0x10, 2, 0x7ff);
        assertEquals(0xffff, bar(0x10, 2));
        bar(0x16, 2, 5);
        bar(0x1a, 2, 1);
        assertEquals(0xffff, bar(0x1a, 2), "no such queue");
        bar(0x10, 2, 1);
        bar(0x14, 1, 0); // a device reset forgets the vectors
        assertEquals(0xffff, bar(0x10, 2));
    }

    @Test
    void withMsixEachQueueInterruptsOnItsVectorAndIntxIsSilent() {
        int cap = msixCap();
        driverOk();
        enableMsix(cap);
        bar(0x10, 2, 0);
        for (int q = 0; q < 2; q++) {
            bar(0x16, 2, q);
            bar(0x1a, 2, q + 1);
            assertEquals(q + 1, bar(0x1a, 2));
        }
        assertEquals(new MsiMessage(0x3ffd_0040L, 0x22), t.msix().routed(2));
        request(1);
        request(0);
        dev.activation.configChanged();
        assertEquals(List.of(2, 1, 0), fired);
        assertEquals(0, intx.get(), "no INTx while MSI-X is on");

        // a masked queue vector waits in the PBA and comes on unmask
        bar(0x4000 + 16 + 12, 4, 1);
        assertNull(routes.getLast().get(1));
        request(0);
        assertEquals(List.of(2, 1, 0), fired);
        assertEquals(2, bar(0x5000, 8), "vector 1 pending");
        bar(0x4000 + 16 + 12, 4, 0);
        assertEquals(List.of(2, 1, 0, 1), fired);
        assertEquals(0, bar(0x5000, 8));

        // a queue without a vector interrupts nobody (not INTx either)
        bar(0x16, 2, 1);
        bar(0x1a, 2, 0xffff);
        request(1);
        assertEquals(4, fired.size());
        assertEquals(0, intx.get());

        // MSI-X off: INTx again (once the guest clears INTx-disable, as Linux does)
        t.header().configWrite(cap + 2, 2, 0);
        t.header().configWrite(PciHeader.COMMAND, 2, 6);
        request(0);
        assertEquals(1, intx.get());
        assertEquals(4, fired.size());
        assertTrue((bar(0x1000, 1) & Virtio.INT_USED_BUFFER) != 0, "the ISR says why");
    }

    @Test
    void resetTurnsMsixOffAndUnroutesEverything() {
        int cap = msixCap();
        enableMsix(cap);
        assertTrue(t.msix().enabled());
        t.reset();
        assertFalse(t.msix().enabled());
        assertEquals(2, cfg(cap + 2, 2));
        for (int v = 0; v < 3; v++) assertNull(t.msix().routed(v));
        assertEquals(1, bar(0x4000 + 12, 4), "vectors masked again");
    }

    @Test
    void withoutMsixTheTableIsAHoleAndVectorsStayNoVector() {
        VirtioPciTransport plain = new VirtioPciTransport(new Dev(), mem, () -> {});
        assertNull(plain.msix());
        byte[] d = new byte[] {1, 2, 3, 4};
        plain.bar().read(0x4000, d);
        assertEquals(0, d[0] | d[1] | d[2] | d[3]);
        plain.bar().write(0x4000, d);
        byte[] v = {0, 0};
        plain.bar().write(0x10, v);
        plain.bar().read(0x10, v);
        assertEquals(-1, (short) ((v[0] & 0xff) | v[1] << 8), "NO_VECTOR");
        for (int pos = plain.header().configRead(0x34, 1); pos != 0; ) {
            assertEquals(9, plain.header().configRead(pos, 1), "vendor capabilities only");
            pos = plain.header().configRead(pos + 1, 1);
        }
    }

    @Test
    void hostileTableAndPbaAccessesAreCountedNotObeyed() {
        long before = t.core().errorCounter().total();
        bar(0x4002, 2, -1);
        bar(0x4000, 1, -1);
        bar(0x4000 + 3 * 16, 4, -1); // past the 3 vectors
        bar(0x5000, 4, -1); // the PBA is read-only
        assertEquals(0, bar(0x4fff, 1));
        assertEquals(0, bar(0x5008, 8), "past the PBA");
        assertEquals(0, bar(0x5ff8, 8));
        assertEquals(0, bar(0x7ffc, 4), "past MSI-X, inside the BAR");
        assertEquals(8, t.core().errorCounter().total() - before);
        assertEquals(0, bar(0x4000, 4), "entry 0 untouched");
        assertEquals(1, bar(0x400c, 4));
    }

    /**
     * A snapshot carries MSI-X: the table, a masked vector's pending bit and the vectors the driver
     * chose come back in a fresh function (through the snapshot JSON), which routes exactly what
     * was routed before any vCPU runs, delivers nothing at restore, and then interrupts on the
     * restored vectors; a state that does not fit is one line and changes nothing.
     */
    @Test
    void aSnapshotCarriesTheTablePendingBitsAndVectors() {
        int cap = msixCap();
        driverOk();
        enableMsix(cap);
        bar(0x10, 2, 0);
        for (int q = 0; q < 2; q++) {
            bar(0x16, 2, q);
            bar(0x1a, 2, q + 1);
        }
        bar(0x4000 + 16 + 12, 4, 1); // vector 1 masked ...
        request(0); // ... so queue 0's interrupt waits in the PBA
        assertEquals(2, bar(0x5000, 8));
        String json = StateJson.write(t.saveState());

        List<Map<Integer, MsiMessage>> routes2 = new ArrayList<>();
        List<Integer> fired2 = new ArrayList<>();
        Dev dev2 = new Dev();
        VirtioPciTransport t2 =
                new VirtioPciTransport(
                        dev2,
                        0,
                        mem,
                        intx::incrementAndGet,
                        new MsixTable.Sink() {
                            @Override
                            public void routes(Map<Integer, MsiMessage> changed) {
                                routes2.add(new LinkedHashMap<>(changed));
                            }

                            @Override
                            public void fire(int vector) {
                                fired2.add(vector);
                            }
                        });
        t2.restoreState(StateJson.read(json, VirtioPciState.class, "virtio-pci"));
        assertTrue(t2.msix().enabled());
        assertEquals(
                List.of(
                        Map.of(
                                0, new MsiMessage(0x3ffd_0040L, 0x20),
                                2, new MsiMessage(0x3ffd_0040L, 0x22))),
                routes2,
                "vectors 0 and 2 routed, the masked one not");
        assertTrue(fired2.isEmpty(), "nothing delivered at restore");
        assertTrue(t2.msix().pending(1));
        byte[] v = new byte[2];
        t2.bar().write(0x16, new byte[] {1, 0});
        t2.bar().read(0x1a, v);
        assertEquals(2, v[0], "queue 1's vector");
        t2.bar().read(0x10, v);
        assertEquals(0, v[0], "the configuration's vector");
        t2.bar().write(0x4000 + 16 + 12, new byte[] {0, 0, 0, 0}); // unmask: the pending one comes
        assertEquals(List.of(1), fired2);
        assertEquals(t.saveState().function(), t2.saveState().function());

        // a function without MSI-X (no ITS on this host) refuses a snapshot that used it
        VirtioPciTransport plain = new VirtioPciTransport(new Dev(), mem, () -> {});
        VirtioPciState saved = StateJson.read(json, VirtioPciState.class, "virtio-pci");
        String msg =
                org.junit.jupiter.api.Assertions.assertThrows(
                                SnapshotException.class, () -> plain.restoreState(saved))
                        .getMessage();
        assertTrue(msg.contains("the snapshot has an MSI-X table, the function offers none"), msg);
        assertFalse(msg.contains("\n"), msg);
        assertEquals(0, plain.saveState().virtio().status(), "nothing applied");
    }
}
