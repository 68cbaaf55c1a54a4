package dev.jvmm.core.virtio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.memory.SegmentGuestMemory;
import dev.jvmm.core.pci.PciFunctionState;
import dev.jvmm.core.pci.PciHeader;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.StateJson;
import dev.jvmm.core.virtio.pci.VirtioPciState;
import dev.jvmm.core.virtio.pci.VirtioPciTransport;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A virtio-pci transport across a snapshot: its function's config space and the virtio core come
 * back together (the same core record virtio-mmio saves), and hostile or garbled records are one
 * line naming the part, with nothing applied.
 */
class VirtioPciSnapshotTest {
    private static final long RAM = 0x8000_0000L;
    private static final String KEY = "virtio-pci.00:00.0";

    private final SegmentGuestMemory mem = SegmentGuestMemory.onHeap(RAM, 1 << 20);

    private TransportPort fresh(LoopbackDevice dev) {
        return TransportPort.pci(dev, mem);
    }

    private static VirtioPciTransport pci(TransportPort p) {
        return (VirtioPciTransport) p.transport;
    }

    /** Two queues of 8, a request served on queue 1, the ISR left unread, BAR0 placed. */
    private TransportPort busy(LoopbackDevice dev) {
        TransportPort p = fresh(dev);
        PciHeader h = pci(p).header();
        h.configWrite(PciHeader.BAR0, 4, 0x5000_8000);
        h.configWrite(
                PciHeader.COMMAND, 2, PciHeader.COMMAND_MEMORY | PciHeader.COMMAND_BUS_MASTER);
        p.status(Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER);
        p.driverFeatures(Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(0));
        p.status(0x3 | Virtio.STATUS_FEATURES_OK);
        for (int q = 0; q < 2; q++) {
            long ring = RAM + 0x1000L * (q + 1);
            p.selectQueue(q);
            p.queueSize(8);
            p.queueAddresses(ring, ring + 0x100, ring + 0x200);
            p.enable(1);
        }
        p.status(0xf);
        // one chain on queue 1: descriptor 0 reads 1 byte at RAM + 0x8000
        long ring = RAM + 0x2000;
        mem.write(ring, new byte[] {0, (byte) 0x80, 0, (byte) 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0});
        mem.write(ring + 0x100 + 4, new byte[] {0, 0});
        mem.write(ring + 0x100 + 2, new byte[] {1, 0});
        p.notify(1);
        p.selectQueue(1);
        return p;
    }

    private static String json(TransportPort p) {
        return StateJson.write(pci(p).saveState());
    }

    @Test
    void theFunctionAndTheCoreComeBackAndTheDeviceGoesOn() {
        LoopbackDevice dev = new LoopbackDevice(2, 8);
        TransportPort p = busy(dev);
        assertEquals(1, dev.chains.size(), "the request was served");
        VirtioPciState s = pci(p).saveState();
        assertNotEquals(0, s.virtio().interruptStatus(), "the ISR not yet read");
        assertEquals(1, s.virtio().queueSel());
        assertEquals(0x5000_8000L, s.function().bar0());
        String json = json(p);

        LoopbackDevice dev2 = new LoopbackDevice(2, 8);
        TransportPort r = fresh(dev2);
        pci(r).restoreState(StateJson.read(json, VirtioPciState.class, KEY));
        assertEquals(json, json(r), "saving the restored transport gives the same record");
        assertEquals(1, dev2.activations, "activated once, as by DRIVER_OK");
        assertEquals(0x5000_8000L, pci(r).header().decoding());
        assertEquals(0, r.interrupts.get(), "no interrupt replayed: the vGIC has it");
        assertEquals(p.status(), r.status());
        assertEquals(1, r.enabled(), "queue_select still 1, and that queue ready");
        assertEquals(s.virtio().interruptStatus(), r.takeInterrupts(), "the ISR bits");
    }

    private SnapshotException refused(UnaryOperator<VirtioPciState> change, String expected) {
        VirtioPciState s = change.apply(pci(busy(new LoopbackDevice(2, 8))).saveState());
        LoopbackDevice dev = new LoopbackDevice(2, 8);
        TransportPort r = fresh(dev);
        SnapshotException e = assertThrows(SnapshotException.class, () -> pci(r).restoreState(s));
        assertOneLine(e, expected);
        assertEquals(0, r.status(), "nothing applied");
        assertEquals(PciHeader.UNMAPPED, pci(r).header().decoding(), "no BAR mapped");
        assertEquals(0, dev.activations);
        return e;
    }

    private static void assertOneLine(SnapshotException e, String expected) {
        assertTrue(e.getMessage().startsWith("snapshot: " + KEY + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    private static VirtioPciState withFunction(VirtioPciState s, PciFunctionState f) {
        return new VirtioPciState(f, s.virtio());
    }

    private static VirtioState withQueueSel(VirtioState v, int sel) {
        return new VirtioState(
                v.status(),
                v.deviceFeaturesSel(),
                v.driverFeaturesSel(),
                v.driverFeatures(),
                sel,
                v.interruptStatus(),
                v.configGeneration(),
                v.needsReset(),
                v.queues(),
                v.device());
    }

    private static VirtioState withStatus(VirtioState v, int status) {
        return new VirtioState(
                status,
                v.deviceFeaturesSel(),
                v.driverFeaturesSel(),
                v.driverFeatures(),
                v.queueSel(),
                v.interruptStatus(),
                v.configGeneration(),
                v.needsReset(),
                v.queues(),
                v.device());
    }

    @Test
    void hostileRecordsAreRefusedNamingTheTransportAndField() {
        refused(s -> new VirtioPciState(null, s.virtio()), "function and virtio are required");
        refused(s -> new VirtioPciState(s.function(), null), "function and virtio are required");
        refused(
                s -> withFunction(s, new PciFunctionState(0xffff, 0x5000_8000L, 0, 0)),
                "function: command 0xffff has bits the function does not implement");
        refused(
                s -> withFunction(s, new PciFunctionState(2, 0x5000_8100L, 0, 0)),
                "function: BAR0 0x50008100 is not aligned to its size 0x8000");
        refused(
                s -> new VirtioPciState(s.function(), withQueueSel(s.virtio(), 0x10000)),
                "queue_select 65536 is not a u16");
        refused(
                s -> new VirtioPciState(s.function(), withStatus(s.virtio(), 0x1f0)),
                "status 0x1f0 has unknown bits");
    }

    @Test
    void garbledJsonIsOneLineNamingThePart() {
        String good = json(busy(new LoopbackDevice(2, 8)));
        for (String bad :
                new String[] {
                    good.substring(0, good.length() / 2),
                    good.replace("\"bar0\":", "\"bar0\":\"x"),
                    good.replace("\"bar0\":", "\"msix\":{},\"bar0\":"),
                    good.replace("\"command\":6,", ""),
                    "[]",
                    "{\"function\":7}"
                }) {
            SnapshotException e =
                    assertThrows(
                            SnapshotException.class,
                            () -> StateJson.read(bad, VirtioPciState.class, KEY),
                            bad);
            assertOneLine(e, "");
        }
    }
}
