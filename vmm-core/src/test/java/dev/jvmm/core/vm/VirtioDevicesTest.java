package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.DeviceTreeBuilder;
import dev.jvmm.core.arch.DeviceTreeInput;
import dev.jvmm.core.arch.FdtContributor;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.arch.aarch64.GsiRoutes;
import dev.jvmm.core.device.MmioBus;
import dev.jvmm.core.fdt.FdtTestReader;
import dev.jvmm.core.memory.SegmentGuestMemory;
import dev.jvmm.core.pci.MsixTable;
import dev.jvmm.core.pci.PciHeader;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioActivation;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.pci.VirtioPciLayout;
import dev.jvmm.core.virtio.pci.VirtioPciTransport;
import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.kvm.sys.EventFd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The virtio wiring without KVM: slots, bus registrations, the ioeventfd/irqfd registrations KVM
 * would get (recorded), real eventfds and notifier threads, reset and close. The guest side is
 * played by register writes through the bus, as a vCPU's MMIO exits would arrive.
 */
class VirtioDevicesTest {
    private static final Layout LAYOUT = new Layout(256L << 20, 1);
    private final MmioBus bus = new MmioBus();
    private final SegmentGuestMemory mem = SegmentGuestMemory.onHeap(Layout.RAM_BASE, 1 << 20);
    private final Recorder kvm = new Recorder();
    private VirtioDevices devices;

    /** What KVM would have been told. */
    private static final class Recorder implements NotificationRouting {
        record Ioevent(EventFd efd, long addr, int len, long datamatch) {}

        record Irq(EventFd efd, int spi) {}

        final List<Ioevent> ioevents = new ArrayList<>();
        final List<Irq> irqs = new ArrayList<>();
        RuntimeException failOnIoevent;
        int ioeventsBeforeFailure = Integer.MAX_VALUE;

        @Override
        public void ioeventfd(EventFd efd, long addr, int len, long datamatch) {
            if (ioevents.size() == ioeventsBeforeFailure) throw failOnIoevent;
            ioevents.add(new Ioevent(efd, addr, len, datamatch));
        }

        /** A registration without datamatch (virtio-pci's notify addresses): datamatch -1. */
        @Override
        public void ioeventfd(EventFd efd, long addr, int len) {
            ioevents.add(new Ioevent(efd, addr, len, -1));
        }

        @Override
        public void removeIoeventfd(EventFd efd, long addr, int len) {
            if (!ioevents.remove(new Ioevent(efd, addr, len, -1)))
                throw new AssertionError("no ioeventfd at 0x" + Long.toHexString(addr));
        }

        @Override
        public void irqfd(EventFd efd, int spi) {
            irqs.add(new Irq(efd, spi));
        }
    }

    /** Records which queue was notified on which thread, and the lifecycle calls. */
    private static final class FakeDevice implements VirtioDevice {
        final int queues;
        final LinkedBlockingQueue<String> notified = new LinkedBlockingQueue<>();
        volatile VirtioActivation activation;
        final AtomicInteger resets = new AtomicInteger(), closes = new AtomicInteger();
        final List<String> lifecycle = new java.util.concurrent.CopyOnWriteArrayList<>();

        /** When set, a notification is "served" until this opens (a slow request). */
        volatile java.util.concurrent.CountDownLatch serving;

        FakeDevice(int queues) {
            this.queues = queues;
        }

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
            return queues;
        }

        @Override
        public int maxQueueSize() {
            return 16;
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
            notified.add(queue + "@" + Thread.currentThread().getName());
            java.util.concurrent.CountDownLatch s = serving;
            if (s != null) {
                try {
                    s.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            lifecycle.add("served " + queue);
        }

        @Override
        public void quiesce() {
            lifecycle.add("quiesce");
        }

        @Override
        public void resume() {
            lifecycle.add("resume");
        }

        @Override
        public void reset() {
            activation = null;
            resets.incrementAndGet();
        }

        @Override
        public void close() {
            closes.incrementAndGet();
        }

        @Override
        public String name() {
            return "fake" + queues;
        }
    }

    @AfterEach
    void closeAll() {
        if (devices != null) devices.close();
    }

    @Test
    void devicesGetConsecutiveSlotsSpisAndOneDatamatchedIoeventfdPerQueue() {
        devices =
                VirtioDevices.wire(
                        List.of(new FakeDevice(1), new FakeDevice(2), new FakeDevice(1)),
                        LAYOUT,
                        bus,
                        mem,
                        kvm);

        assertEquals(
                List.of(
                        "virtio-mmio.0:fake1 [0x3000000, 0x3000200)",
                        "virtio-mmio.1:fake2 [0x3000200, 0x3000400)",
                        "virtio-mmio.2:fake1 [0x3000400, 0x3000600)"),
                bus.regions().stream().map(Object::toString).toList());
        assertEquals(List.of(4, 5, 6), kvm.irqs.stream().map(Recorder.Irq::spi).toList());
        assertEquals(
                List.of("0x3000050=0", "0x3000250=0", "0x3000250=1", "0x3000450=0"),
                kvm.ioevents.stream()
                        .map(e -> String.format("0x%x=%d", e.addr(), e.datamatch()))
                        .toList());
        assertTrue(kvm.ioevents.stream().allMatch(e -> e.len() == 4));
        assertEquals(
                4,
                kvm.ioevents.stream().map(e -> e.efd().fd()).distinct().count(),
                "one eventfd per queue");
        assertSame(kvm.irqs.get(1).efd(), devices.slots().get(1).irq());
        assertEquals(
                List.of(36, 37, 38),
                devices.slots().stream().map(VirtioDevices.Slot::intid).toList());
    }

    @Test
    void deviceTreeHasOneEdgeTriggeredNodePerSlot() {
        devices =
                VirtioDevices.wire(
                        List.of(new FakeDevice(1), new FakeDevice(1)), LAYOUT, bus, mem, kvm);
        DeviceTreeInput in =
                DeviceTreeInput.of(
                                LAYOUT, DeviceTreeInput.kvmDefaultMpidrs(1), PsciVersion.V1_1, "")
                        .withExtraNodes(devices.deviceTreeNodes());
        FdtTestReader.Tree t = FdtTestReader.parse(new DeviceTreeBuilder(new Random(1)).build(in));
        FdtTestReader.Node n = t.node("/virtio_mmio@3000200");
        assertArrayEquals(new long[] {0x300_0200L, 0x200}, n.u64s("reg"));
        assertArrayEquals(
                new int[] {0, 5, DeviceTreeBuilder.IRQ_TYPE_EDGE_RISING}, n.u32s("interrupts"));
        assertNotNull(t.node("/virtio_mmio@3000000"));
    }

    @Test
    void aSignalledQueueEventfdReachesTheDeviceOnItsNotifierThread() throws Exception {
        FakeDevice dev = new FakeDevice(2);
        devices = VirtioDevices.wire(List.of(new FakeDevice(1), dev), LAYOUT, bus, mem, kvm);
        long base = LAYOUT.virtioSlot(1).base();
        driverOk(base, 2);
        assertNotNull(dev.activation);

        kvm.ioevents.get(2).efd().signal(); // what KVM does on the guest's "QueueNotify = 1"
        assertEquals("1@jvmm-virtio-mmio.1-fake2", dev.notified.poll(5, TimeUnit.SECONDS));
        kvm.ioevents.get(1).efd().signal();
        assertEquals("0@jvmm-virtio-mmio.1-fake2", dev.notified.poll(5, TimeUnit.SECONDS));
        // a QueueNotify that KVM did not match (a bad index) exits to the vCPU and is refused by
        // the transport
        write(base + 0x50, 7);
        assertNull(dev.notified.poll(100, TimeUnit.MILLISECONDS));
        assertEquals(1, devices.slots().get(1).transport().core().errorCounter().total());
    }

    @Test
    void deviceInterruptsSignalTheIrqfdEventfd() {
        FakeDevice dev = new FakeDevice(1);
        devices = VirtioDevices.wire(List.of(dev), LAYOUT, bus, mem, kvm);
        driverOk(LAYOUT.virtioSlot(0).base(), 1);
        dev.activation.configChanged();
        assertEquals(1, kvm.irqs.get(0).efd().drain());
        assertEquals(Virtio.INT_CONFIG_CHANGE, read(LAYOUT.virtioSlot(0).base() + 0x60));
    }

    @Test
    void resetReturnsEveryDeviceToItsInitialStateForAReboot() {
        FakeDevice a = new FakeDevice(1), b = new FakeDevice(1);
        devices = VirtioDevices.wire(List.of(a, b), LAYOUT, bus, mem, kvm);
        driverOk(LAYOUT.virtioSlot(0).base(), 1);
        devices.reset();
        assertEquals(1, a.resets.get(), "the active device is reset");
        assertEquals(0, b.resets.get(), "a device the driver never started has nothing to reset");
        assertNull(a.activation);
        assertEquals(0, read(LAYOUT.virtioSlot(0).base() + 0x70), "status");
        driverOk(LAYOUT.virtioSlot(0).base(), 1); // the next kernel can start it again
        assertNotNull(a.activation);
    }

    @Test
    void pausingADeviceWaitsForTheRequestBeingServedAndHoldsLaterOnesUntilResume()
            throws Exception {
        FakeDevice dev = new FakeDevice(1);
        devices = VirtioDevices.wire(List.of(dev), LAYOUT, bus, mem, kvm);
        driverOk(LAYOUT.virtioSlot(0).base(), 1);
        VmPart part = devices.parts().get(0);
        assertEquals("virtio-mmio.0:fake1", part.name());
        dev.serving = new java.util.concurrent.CountDownLatch(1);
        kvm.ioevents.get(0).efd().signal();
        assertNotNull(dev.notified.poll(5, TimeUnit.SECONDS), "being served");

        Thread pauser =
                Thread.ofPlatform()
                        .start(
                                () -> {
                                    try {
                                        part.pause(System.nanoTime() + 10_000_000_000L);
                                    } catch (PauseException e) {
                                        throw new IllegalStateException(e);
                                    }
                                });
        pauser.join(300);
        assertTrue(pauser.isAlive(), "the pause returned while a request was being served");
        dev.serving.countDown();
        pauser.join(5000);
        assertEquals(List.of("served 0", "quiesce"), dev.lifecycle);

        dev.serving = null;
        kvm.ioevents.get(0).efd().signal(); // the guest notifies while paused
        assertNull(dev.notified.poll(300, TimeUnit.MILLISECONDS), "served while paused");
        part.resume();
        assertNotNull(dev.notified.poll(5, TimeUnit.SECONDS), "served after resume");
        assertEquals(List.of("served 0", "quiesce", "resume", "served 0"), waitFor(dev, 4));
    }

    @Test
    void aRequestThatDoesNotFinishFailsThePauseInBoundedTimeAndTheDeviceRunsOn() throws Exception {
        FakeDevice dev = new FakeDevice(1);
        devices = VirtioDevices.wire(List.of(dev), LAYOUT, bus, mem, kvm);
        driverOk(LAYOUT.virtioSlot(0).base(), 1);
        VmPart part = devices.parts().get(0);
        dev.serving = new java.util.concurrent.CountDownLatch(1);
        kvm.ioevents.get(0).efd().signal();
        assertNotNull(dev.notified.poll(5, TimeUnit.SECONDS));
        PauseException e =
                assertThrows(
                        PauseException.class, () -> part.pause(System.nanoTime() + 300_000_000L));
        assertEquals("virtio-mmio.0:fake1: a request did not finish", e.getMessage());
        assertTrue(e.timedOut());
        dev.serving.countDown();
        dev.serving = null;
        kvm.ioevents.get(0).efd().signal();
        assertNotNull(dev.notified.poll(5, TimeUnit.SECONDS), "not left paused");
        assertFalse(dev.lifecycle.contains("quiesce"));
    }

    @Test
    void aPausedDeviceStillCloses() throws Exception {
        FakeDevice dev = new FakeDevice(1);
        devices = VirtioDevices.wire(List.of(dev), LAYOUT, bus, mem, kvm);
        devices.parts().get(0).pause(System.nanoTime() + 5_000_000_000L);
        long t0 = System.nanoTime();
        devices.close();
        assertTrue(System.nanoTime() - t0 < 3_000_000_000L, "close waited for a paused notifier");
        assertEquals(1, dev.closes.get());
        assertTrue(
                Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.getName().startsWith("jvmm-virtio-mmio")),
                "notifier threads ended");
    }

    private static List<String> waitFor(FakeDevice dev, int n) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (dev.lifecycle.size() < n && System.nanoTime() < end) Thread.sleep(5);
        return dev.lifecycle;
    }

    @Test
    void closeStopsNotifiersClosesDevicesOnceAndReleasesTheEventfds() {
        FakeDevice a = new FakeDevice(1), b = new FakeDevice(2);
        devices = VirtioDevices.wire(List.of(a, b), LAYOUT, bus, mem, kvm);
        devices.close();
        devices.close();
        assertEquals(1, a.closes.get());
        assertEquals(1, b.closes.get());
        assertTrue(
                Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.getName().startsWith("jvmm-virtio-mmio")),
                "notifier threads ended");
        assertThrows(IllegalStateException.class, () -> kvm.ioevents.get(0).efd().fd());
        assertThrows(IllegalStateException.class, () -> kvm.irqs.get(1).efd().fd());
    }

    @Test
    void aFailedRegistrationUndoesEverythingAndClosesEveryDevice() {
        kvm.ioeventsBeforeFailure = 2; // the second device's second queue
        kvm.failOnIoevent = new IllegalStateException("KVM_IOEVENTFD: ENOSPC");
        List<FakeDevice> all = List.of(new FakeDevice(1), new FakeDevice(2), new FakeDevice(1));
        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class,
                        () ->
                                VirtioDevices.wire(
                                        Collections.unmodifiableList(all), LAYOUT, bus, mem, kvm));
        assertEquals("KVM_IOEVENTFD: ENOSPC", e.getMessage());
        assertEquals(List.of(1, 1, 1), all.stream().map(d -> d.closes.get()).toList());
        assertThrows(
                IllegalStateException.class,
                () -> kvm.ioevents.get(1).efd().fd(),
                "eventfds closed");
        assertThrows(IllegalStateException.class, () -> kvm.irqs.get(1).efd().fd());
        assertTrue(
                Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.getName().startsWith("jvmm-virtio-mmio")));
    }

    // ---- a minimal driver: the register sequence Linux's virtio_mmio performs
    // --------------------

    private void driverOk(long base, int queues) {
        write(base + 0x70, 0);
        write(base + 0x70, Virtio.STATUS_ACKNOWLEDGE);
        write(base + 0x70, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER);
        write(base + 0x24, 1);
        write(base + 0x20, 1); // VERSION_1 (bit 32)
        write(
                base + 0x70,
                Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_FEATURES_OK);
        for (int q = 0; q < queues; q++) {
            long ring = Layout.RAM_BASE + 0x1000L * (q + 1) + (base & 0xf000) * 4;
            write(base + 0x30, q);
            write(base + 0x38, 16);
            write(base + 0x80, (int) ring);
            write(base + 0x84, (int) (ring >>> 32));
            write(base + 0x90, (int) (ring + 0x100));
            write(base + 0x94, (int) ((ring + 0x100) >>> 32));
            write(base + 0xa0, (int) (ring + 0x200));
            write(base + 0xa4, (int) ((ring + 0x200) >>> 32));
            write(base + 0x44, 1);
            assertEquals(1, read(base + 0x44), "queue " + q + " ready");
        }
        write(
                base + 0x70,
                Virtio.STATUS_ACKNOWLEDGE
                        | Virtio.STATUS_DRIVER
                        | Virtio.STATUS_FEATURES_OK
                        | Virtio.STATUS_DRIVER_OK);
        assertEquals(0xf, read(base + 0x70), "status after DRIVER_OK");
    }

    @Test
    void overPciDevicesSitOnBus0AndTheirBarsCarryTheNotifyIoeventfdsWhereverPlaced()
            throws Exception {
        FakeDevice dev = new FakeDevice(2);
        devices =
                VirtioDevices.wire(
                        List.of(new FakeDevice(1), dev),
                        VirtioTransportKind.PCI,
                        LAYOUT,
                        bus,
                        mem,
                        kvm);
        long ecam = Layout.PCI_ECAM_BASE;
        assertEquals(
                List.of("pci-ecam [0x40000000, 0x50000000)"),
                bus.regions().stream().map(Object::toString).toList(),
                "no BAR mapped before the guest places one");
        assertEquals(0x1044_1af4, read(ecam + (1 << 15)), "device 1 on bus 0: virtio (1040 + 4)");
        assertEquals(-1, read(ecam + (2 << 15)), "nothing at device 2");
        assertEquals(List.of(4, 5), kvm.irqs.stream().map(Recorder.Irq::spi).toList());
        assertEquals(List.of(), kvm.ioevents);

        // the guest sizes and places device 1's BAR, then turns memory decoding on
        write(ecam + (1 << 15) + 0x10, -1);
        assertEquals(~0x7fff, read(ecam + (1 << 15) + 0x10));
        write(ecam + (1 << 15) + 0x10, 0x5000_8000);
        write(ecam + (1 << 15) + 0x04, 0x6);
        assertEquals(
                List.of("0x5000b000/2", "0x5000b004/2"),
                kvm.ioevents.stream()
                        .map(e -> String.format("0x%x/%d", e.addr(), e.len()))
                        .toList());
        assertNotNull(bus.find(0x5000_8000L));
        assertEquals(
                "virtio-pci.1:fake2 [0x50008000, 0x50010000)", bus.find(0x5000_8000L).toString());

        // moved: the old address is a hole, the ioeventfds follow
        write(ecam + (1 << 15) + 0x10, 0x6000_0000);
        assertNull(bus.find(0x5000_8000L));
        assertNotNull(bus.find(0x6000_0000L));
        assertEquals(
                List.of("0x60003000", "0x60003004"),
                kvm.ioevents.stream().map(e -> String.format("0x%x", e.addr())).toList());
        // a BAR over RAM is never mapped
        write(ecam + (1 << 15) + 0x10, (int) Layout.RAM_BASE);
        assertNull(bus.find(Layout.RAM_BASE));
        assertEquals(List.of(), kvm.ioevents);

        devices.reset(); // an in-place reboot: decoding off, BAR 0
        assertEquals(0, read(ecam + (1 << 15) + 0x10));
    }

    private void write(long addr, int len, long v) {
        byte[] d = new byte[len];
        for (int i = 0; i < len; i++) d[i] = (byte) (v >>> (8 * i));
        bus.dispatch(addr, d, true);
    }

    /** Device 1's driver as Linux runs it, through config space and its BAR at {@code bar}. */
    private void startPciDevice1(long bar) {
        long fn = Layout.PCI_ECAM_BASE + (1 << 15);
        write(fn + 0x10, -1);
        write(fn + 0x10, (int) 0x5000_4000L); // placed ...
        write(fn + 0x04, 0x6);
        write(fn + 0x10, (int) bar); // ... and moved while decoding
        write(bar + 0x14, 1, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER);
        write(bar + 0x08, 4, 1);
        write(bar + 0x0c, 4, 1); // VERSION_1
        write(bar + 0x14, 1, 0x3 | Virtio.STATUS_FEATURES_OK);
        for (int q = 0; q < 2; q++) {
            long ring = Layout.RAM_BASE + 0x1000L * (q + 1);
            write(bar + 0x16, 2, q);
            write(bar + 0x18, 2, 16);
            write(bar + 0x20, 8, ring);
            write(bar + 0x28, 8, ring + 0x100);
            write(bar + 0x30, 8, ring + 0x200);
            write(bar + 0x1c, 2, 1);
        }
        write(bar + 0x14, 1, 0xf); // DRIVER_OK
        write(bar + 0x00, 4, 1); // device_feature_select left at 1
    }

    private static List<String> statesOf(VirtioDevices d) {
        List<String> out = new ArrayList<>();
        for (VirtioDevices.Slot s : d.slots()) {
            var part = (dev.jvmm.core.snapshot.Snapshottable<?>) s.transport();
            out.add(
                    part.stateKey()
                            + "="
                            + dev.jvmm.core.snapshot.StateJson.write(part.saveState()));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static <S extends Record> void restoreFrom(
            dev.jvmm.core.snapshot.Snapshottable<S> part, String json) {
        part.restoreState(
                dev.jvmm.core.snapshot.StateJson.read(json, part.stateType(), part.stateKey()));
    }

    @Test
    void overPciASnapshotRestoresEachFunctionWithItsBarMappedAndIoeventfdsWhereTheGuestMovedIt()
            throws Exception {
        long bar = 0x6000_8000L;
        FakeDevice dev = new FakeDevice(2);
        devices =
                VirtioDevices.wire(
                        List.of(new FakeDevice(1), dev),
                        VirtioTransportKind.PCI,
                        LAYOUT,
                        bus,
                        mem,
                        kvm);
        startPciDevice1(bar);
        assertNotNull(dev.activation);
        List<String> saved = statesOf(devices);
        assertEquals(
                List.of("virtio-pci.00:00.0", "virtio-pci.00:01.0"),
                saved.stream().map(x -> x.substring(0, x.indexOf('='))).toList());
        assertEquals(
                VirtioDevices.pciLayout(List.of(Virtio.ID_RNG, Virtio.ID_RNG)),
                devices.pciFunctions(),
                "what a restore expects is what was built");
        devices.close();

        // a new process: fresh bus, fresh KVM registrations, same devices in the same order
        MmioBus bus2 = new MmioBus();
        Recorder kvm2 = new Recorder();
        FakeDevice dev2 = new FakeDevice(2);
        devices =
                VirtioDevices.wire(
                        List.of(new FakeDevice(1), dev2),
                        VirtioTransportKind.PCI,
                        LAYOUT,
                        bus2,
                        mem,
                        kvm2);
        assertEquals(List.of(), kvm2.ioevents);
        for (int i = 0; i < saved.size(); i++) {
            String json = saved.get(i).substring(saved.get(i).indexOf('=') + 1);
            restoreFrom(
                    (dev.jvmm.core.snapshot.Snapshottable<?>) devices.slots().get(i).transport(),
                    json);
        }
        assertEquals(saved, statesOf(devices), "saving the restored functions gives the same");
        assertEquals("virtio-pci.1:fake2 [0x60008000, 0x60010000)", bus2.find(bar).toString());
        assertNull(bus2.find(0x5000_4000L), "not where it was first placed");
        assertEquals(
                List.of("0x6000b000/2", "0x6000b004/2"),
                kvm2.ioevents.stream()
                        .map(e -> String.format("0x%x/%d", e.addr(), e.len()))
                        .toList());
        assertEquals(List.of(4, 5), kvm2.irqs.stream().map(Recorder.Irq::spi).toList());
        assertNotNull(dev2.activation, "activated as by DRIVER_OK");
        // the restored ioeventfd of queue 1 reaches the device through its notifier
        kvm2.ioevents.get(1).efd().signal();
        String n = dev2.notified.poll(5, TimeUnit.SECONDS);
        assertNotNull(n, "queue 1's notification");
        assertTrue(n.startsWith("1@"), n);
        // and the guest's next register accesses see the restored selectors
        byte[] sel = new byte[4];
        bus2.dispatch(bar + 0x00, sel, false);
        assertEquals(1, sel[0]);
    }

    @Test
    void overPciTheDeviceTreeHasOneHostBridgeWithAnInterruptMapEntryPerDevice() {
        devices =
                VirtioDevices.wire(
                        List.of(new FakeDevice(1), new FakeDevice(1)),
                        VirtioTransportKind.PCI,
                        LAYOUT,
                        bus,
                        mem,
                        kvm);
        DeviceTreeInput in =
                DeviceTreeInput.of(
                                LAYOUT, DeviceTreeInput.kvmDefaultMpidrs(1), PsciVersion.V1_1, "")
                        .withExtraNodes(devices.deviceTreeNodes(false));
        FdtTestReader.Tree t = FdtTestReader.parse(new DeviceTreeBuilder(new Random(1)).build(in));
        FdtTestReader.Node n = t.node("/pci@40000000");
        assertEquals(List.of("pci-host-ecam-generic"), n.strings("compatible"));
        assertEquals("pci", n.string("device_type"));
        assertArrayEquals(new long[] {0x4000_0000L, 0x1000_0000L}, n.u64s("reg"));
        assertArrayEquals(new int[] {0, 0}, n.u32s("bus-range"));
        assertEquals(3, n.u32("#address-cells"));
        assertEquals(2, n.u32("#size-cells"));
        assertEquals(1, n.u32("#interrupt-cells"));
        assertArrayEquals(
                new int[] {0x0200_0000, 0, 0x5000_0000, 0, 0x5000_0000, 0, 0x3000_0000},
                n.u32s("ranges"),
                "32-bit memory, 1:1");
        int edge = DeviceTreeBuilder.IRQ_TYPE_EDGE_RISING;
        assertArrayEquals(
                new int[] {
                    0,
                    0,
                    0,
                    1,
                    DeviceTreeBuilder.GIC_PHANDLE,
                    0,
                    4,
                    edge,
                    1 << 11,
                    0,
                    0,
                    1,
                    DeviceTreeBuilder.GIC_PHANDLE,
                    0,
                    5,
                    edge
                },
                n.u32s("interrupt-map"),
                "INTA# of device n on SPI 4 + n; the GIC has no address cells without an ITS");
        assertArrayEquals(new int[] {0xf800, 0, 0, 7}, n.u32s("interrupt-map-mask"));
        assertFalse(n.has("msi-map"));
        assertNull(
                t.root().children().stream()
                        .filter(c -> c.name().startsWith("virtio_mmio"))
                        .findAny()
                        .orElse(null));

        FdtContributor withIts = devices.deviceTreeNodes(true).get(0);
        FdtTestReader.Tree its =
                FdtTestReader.parse(
                        new DeviceTreeBuilder(new Random(1))
                                .build(in.withExtraNodes(List.of(withIts))));
        FdtTestReader.Node p = its.node("/pci@40000000");
        assertArrayEquals(
                new int[] {0, DeviceTreeBuilder.ITS_PHANDLE, 0, 0x1_0000},
                p.u32s("msi-map"),
                "every requester ID to the ITS as the same device ID");
        assertEquals(2 * (4 + 1 + 2 + 3), p.u32s("interrupt-map").length, "2 parent address cells");
    }

    /** A VM with an ITS: MSIs through a real {@link GsiRoutes} whose pushes are recorded. */
    private static final class MsiRecorder implements NotificationRouting {
        final List<List<IrqRoute>> tables = new ArrayList<>();
        final List<Integer> irqfdGsis = new ArrayList<>();
        final GsiRoutes routes =
                new GsiRoutes(
                        new GsiRoutes.Target() {
                            @Override
                            public void irqfd(int efd, int gsi) {
                                irqfdGsis.add(gsi);
                            }

                            @Override
                            public void setGsiRouting(List<IrqRoute> r) {
                                tables.add(List.copyOf(r));
                            }
                        });

        @Override
        public void ioeventfd(EventFd efd, long addr, int len, long datamatch) {}

        @Override
        public void ioeventfd(EventFd efd, long addr, int len) {}

        @Override
        public void removeIoeventfd(EventFd efd, long addr, int len) {}

        @Override
        public void irqfd(EventFd efd, int spi) {
            routes.bindSpi(efd.fd(), spi);
        }

        @Override
        public boolean msi() {
            return true;
        }

        @Override
        public boolean msiNeedsDeviceId() {
            return true;
        }

        @Override
        public int bindMsi(EventFd efd) {
            return routes.bindMsi(efd.fd());
        }

        @Override
        public void routeMsi(java.util.Map<Integer, IrqRoute.Msi> changes) {
            routes.route(changes);
        }
    }

    @Test
    void withAnItsEachVectorIsAnMsiRouteFromTheRequesterIdAndTheSpisStayRouted() {
        MsiRecorder its = new MsiRecorder();
        devices =
                VirtioDevices.wire(
                        List.of(new FakeDevice(1), new FakeDevice(1)),
                        VirtioTransportKind.PCI,
                        LAYOUT,
                        bus,
                        mem,
                        its);
        int first = GsiRoutes.FIRST_MSI_GSI;
        assertEquals(List.of(4, first, first + 1, 5, first + 2, first + 3), its.irqfdGsis);
        assertTrue(its.tables.isEmpty(), "nothing routed before the guest enables MSI-X");
        assertEquals(2, devices.slots().get(1).vectorEvents().size(), "a queue and the config");

        long fn = Layout.PCI_ECAM_BASE + (1 << 15);
        int cap = VirtioPciLayout.msixOffset(new FakeDevice(1));
        write(fn + 0x10, 0x5000_8000);
        write(fn + 0x04, 0x6 | PciHeader.COMMAND_INTX_DISABLE);
        write(fn + cap, MsixTable.CONTROL_ENABLE << 16);
        long table = 0x5000_8000L + VirtioPciLayout.MSIX_TABLE;
        write(table, 0x3ffd_0040);
        write(table + 8, 0x21);
        write(table + 12, 0); // unmask vector 0
        assertEquals(
                List.of(
                        new IrqRoute.Irqchip(4, 4),
                        new IrqRoute.Irqchip(5, 5),
                        new IrqRoute.Msi(first + 2, 0x3ffd_0040L, 0x21, 1 << 3, true)),
                its.tables.getLast(),
                "device 1's requester ID (00:01.0) is the device ID; both INTx lines kept");

        VirtioPciTransport t = (VirtioPciTransport) devices.slots().get(1).transport();
        assertTrue(t.msix().trigger(0));
        assertEquals(1, devices.slots().get(1).vectorEvents().get(0).drain(), "its eventfd");
        assertTrue(t.msix().trigger(1)); // masked: pending, no signal
        assertEquals(0, devices.slots().get(1).vectorEvents().get(1).drain());

        devices.reset(); // an in-place reboot unroutes it again
        assertEquals(
                List.of(new IrqRoute.Irqchip(4, 4), new IrqRoute.Irqchip(5, 5)),
                its.tables.getLast());
    }

    private void write(long addr, int v) {
        bus.dispatch(
                addr,
                ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, v).array(),
                true);
    }

    private int read(long addr) {
        byte[] d = new byte[4];
        bus.dispatch(addr, d, false);
        return ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }
}
