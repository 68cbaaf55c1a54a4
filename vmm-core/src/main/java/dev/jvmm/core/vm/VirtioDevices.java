package dev.jvmm.core.vm;

import dev.jvmm.core.arch.DeviceTreeBuilder;
import dev.jvmm.core.arch.FdtContributor;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.PciDeviceTree;
import dev.jvmm.core.device.MmioBus;
import dev.jvmm.core.device.QueueNotifier;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.pci.BarWindow;
import dev.jvmm.core.pci.PciEcam;
import dev.jvmm.core.snapshot.GuestDefinition.PciFunctionDefinition;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioMmioTransport;
import dev.jvmm.core.virtio.VirtioTransport;
import dev.jvmm.core.virtio.console.VirtioConsoleDevice;
import dev.jvmm.core.virtio.pci.VirtioPciLayout;
import dev.jvmm.core.virtio.pci.VirtioPciTransport;
import dev.jvmm.kvm.sys.EventFd;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;

/**
 * A VM's virtio devices, wired: device n gets the n-th virtio SPI of the {@link Layout} with an
 * irqfd, a transport, one ioeventfd per queue and a {@link QueueNotifier} thread that turns those
 * into device work. Over virtio-mmio device n has the n-th MMIO slot, its ioeventfds datamatched on
 * the QueueNotify register, and a {@code virtio,mmio} node; over virtio-pci it is device n on the
 * ECAM host bridge's bus 0 with its INTA# on the SPI, and its BAR (with the queues' notification
 * ioeventfds) is mapped wherever the guest places it in the memory window; where the VM has an ITS
 * it also offers MSI-X, each vector an eventfd bound to an MSI GSI ({@link MsixRoutes}), and the
 * device ID of its MSIs is its requester ID (bus 0, device n, function 0). Either way disks become
 * vda, vdb, ... in the order given.
 *
 * <p>Lifecycle: {@link #reset} before an in-place reboot (nothing may write into the old rings
 * while the new kernel loads), {@link #close} on every way out, before guest RAM is unmapped.
 */
public final class VirtioDevices implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(VirtioDevices.class.getName());

    /** One wired device. */
    public record Slot(
            Layout.Region region,
            int intid,
            VirtioTransport transport,
            EventFd irq,
            List<EventFd> queueEvents,
            QueueNotifier notifier,
            List<EventFd> vectorEvents) {
        public String name() {
            return region.name() + ":" + transport.device().name();
        }
    }

    private final List<Slot> slots;
    private final Layout layout;
    private final boolean pci;
    private boolean closed;

    private VirtioDevices(List<Slot> slots, Layout layout, boolean pci) {
        this.slots = List.copyOf(slots);
        this.layout = layout;
        this.pci = pci;
    }

    /** No devices. */
    public static VirtioDevices none() {
        return new VirtioDevices(List.of(), null, false);
    }

    /** Wires {@code devices} over virtio-mmio (see the other overload). */
    public static VirtioDevices wire(
            List<VirtioDevice> devices,
            Layout layout,
            MmioBus bus,
            GuestMemory mem,
            NotificationRouting kvm) {
        return wire(devices, VirtioTransportKind.MMIO, layout, bus, mem, kvm);
    }

    /**
     * Wires {@code devices} in order. On failure everything wired so far is closed, {@code devices}
     * included, and the exception is rethrown.
     */
    public static VirtioDevices wire(
            List<VirtioDevice> devices,
            VirtioTransportKind kind,
            Layout layout,
            MmioBus bus,
            GuestMemory mem,
            NotificationRouting kvm) {
        List<Slot> slots = new ArrayList<>();
        List<AutoCloseable> undo = new ArrayList<>();
        int owned = 0; // devices[0, owned) belong to a transport, which closes them
        boolean pci = kind == VirtioTransportKind.PCI && !devices.isEmpty();
        try {
            PciEcam ecam = null;
            BarWindow window = null;
            if (pci) {
                ecam = new PciEcam();
                bus.register(layout.pciEcam().base(), layout.pciEcam().size(), ecam, "pci-ecam");
                window = new BarWindow(layout.pciMemory().base(), layout.pciMemory().end());
            }
            for (int i = 0; i < devices.size(); i++) {
                if (pci) {
                    Slot s = wirePci(i, devices.get(i), ecam, window, layout, bus, mem, kvm, undo);
                    owned = i + 1;
                    slots.add(s);
                    continue;
                }
                VirtioDevice d = devices.get(i);
                Layout.Region region = layout.virtioSlot(i);
                int intid = layout.virtioIntid(i);
                EventFd irq = EventFd.create(region.name() + " irq");
                undo.add(irq);
                kvm.irqfd(irq, Layout.spiNumber(intid));
                VirtioMmioTransport t = new VirtioMmioTransport(d, region.base(), mem, irq::signal);
                undo.add(t);
                owned = i + 1;
                List<EventFd> events = new ArrayList<>();
                for (int q = 0; q < d.queueCount(); q++) {
                    EventFd e = EventFd.create(region.name() + " queue " + q);
                    undo.add(e);
                    events.add(e);
                    kvm.ioeventfd(e, region.base() + VirtioMmioTransport.QUEUE_NOTIFY_OFFSET, 4, q);
                }
                bus.register(region.base(), region.size(), t, region.name() + ":" + d.name());
                QueueNotifier n =
                        new QueueNotifier(region.name() + "-" + d.name(), events, t::notifyQueue)
                                .start();
                undo.add(n);
                slots.add(new Slot(region, intid, t, irq, List.copyOf(events), n, List.of()));
            }
            return new VirtioDevices(slots, layout, pci);
        } catch (RuntimeException e) {
            Undo.unwind(undo, e);
            for (int i = owned; i < devices.size(); i++) {
                try {
                    devices.get(i).close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private static Slot wirePci(
            int i,
            VirtioDevice d,
            PciEcam ecam,
            BarWindow window,
            Layout layout,
            MmioBus bus,
            GuestMemory mem,
            NotificationRouting kvm,
            List<AutoCloseable> undo) {
        String name = "virtio-pci." + i;
        Layout.Region function =
                new Layout.Region(name, layout.pciEcam().base() + ((long) i << 15), 0x1000);
        int intid = layout.virtioIntid(i);
        EventFd irq = EventFd.create(name + " irq");
        undo.add(irq);
        kvm.irqfd(irq, Layout.spiNumber(intid));
        List<EventFd> vectorEvents = new ArrayList<>();
        MsixRoutes msix = null;
        if (kvm.msi()) {
            // with an ITS: MSI-X, one eventfd and MSI GSI per vector, the device ID its requester
            // ID
            for (int v = 0; v < VirtioPciLayout.msixVectors(d); v++) {
                EventFd e = EventFd.create(name + " vector " + v);
                undo.add(e);
                vectorEvents.add(e);
            }
            msix = new MsixRoutes(kvm, vectorEvents, i << 3);
        }
        VirtioPciTransport t = new VirtioPciTransport(d, i, mem, irq::signal, msix);
        undo.add(t);
        List<EventFd> events = new ArrayList<>();
        for (int q = 0; q < d.queueCount(); q++) {
            EventFd e = EventFd.create(name + " queue " + q);
            undo.add(e);
            events.add(e);
        }
        String busName = name + ":" + d.name();
        t.header()
                .setBarListener(
                        window.listener(
                                busName,
                                VirtioPciLayout.BAR_SIZE,
                                new BarWindow.Mapping() {
                                    @Override
                                    public void map(long base) {
                                        bus.register(
                                                base, VirtioPciLayout.BAR_SIZE, t.bar(), busName);
                                        for (int q = 0; q < events.size(); q++)
                                            kvm.ioeventfd(events.get(q), notifyAddress(base, q), 2);
                                    }

                                    @Override
                                    public void unmap(long base) {
                                        for (int q = 0; q < events.size(); q++)
                                            kvm.removeIoeventfd(
                                                    events.get(q), notifyAddress(base, q), 2);
                                        bus.unregister(busName);
                                    }
                                }));
        ecam.attach(i, t.header());
        QueueNotifier n = new QueueNotifier(name + "-" + d.name(), events, t::notifyQueue).start();
        undo.add(n);
        return new Slot(function, intid, t, irq, List.copyOf(events), n, List.copyOf(vectorEvents));
    }

    /** Queue {@code q}'s notification address in a BAR at {@code base}: 16-bit writes of Linux. */
    private static long notifyAddress(long base, int q) {
        return base + VirtioPciLayout.NOTIFY + (long) q * VirtioPciLayout.NOTIFY_MULTIPLIER;
    }

    /**
     * The PCI functions as built (IDs and BAR sizes read from their config headers), in device
     * order; empty over virtio-mmio.
     */
    public List<PciFunctionDefinition> pciFunctions() {
        List<PciFunctionDefinition> out = new ArrayList<>();
        for (Slot s : slots) {
            if (!(s.transport() instanceof VirtioPciTransport t)) continue;
            int ids = t.header().configRead(0, 4);
            out.add(
                    new PciFunctionDefinition(
                            t.address(), ids & 0xffff, ids >>> 16, List.of(t.header().barSize())));
        }
        return List.copyOf(out);
    }

    /** The PCI functions {@code types} (in slot order) are built as, by this jvmm. */
    static List<PciFunctionDefinition> pciLayout(List<Integer> types) {
        List<PciFunctionDefinition> out = new ArrayList<>();
        for (int i = 0; i < types.size(); i++) out.add(VirtioPciLayout.definition(i, types.get(i)));
        return List.copyOf(out);
    }

    /** True when the devices are on PCI. */
    public boolean pci() {
        return pci;
    }

    public List<Slot> slots() {
        return slots;
    }

    /** The threads that run device work on guest memory (one notifier per device). */
    public List<Thread> threads() {
        return slots.stream().map(s -> s.notifier().thread()).toList();
    }

    /** The virtio console (hvc0), if the VM has one: where host console input goes. */
    public VirtioConsoleDevice console() {
        for (Slot s : slots) if (s.transport().device() instanceof VirtioConsoleDevice c) return c;
        return null;
    }

    /**
     * One {@link VmPart} per device, in slot order. Pausing one holds its notifier thread (which
     * waits for the request batch it is serving: an in-flight block request finishes) and then
     * quiesces the device (a writable disk is flushed); resuming does the reverse, and the
     * notifications that came in meanwhile are served then.
     */
    public List<VmPart> parts() {
        return slots.stream().<VmPart>map(DevicePart::new).toList();
    }

    private record DevicePart(Slot slot) implements VmPart {
        @Override
        public String name() {
            return slot.name();
        }

        @Override
        public void pause(long deadlineNanos) throws PauseException {
            try {
                if (!slot.notifier().pause(deadlineNanos))
                    throw new PauseException(name() + ": a request did not finish", true);
            } catch (InterruptedException e) {
                slot.notifier().resume();
                Thread.currentThread().interrupt();
                throw new PauseException(name() + ": interrupted");
            }
            try {
                slot.transport().device().quiesce();
            } catch (IOException | RuntimeException e) {
                slot.notifier().resume();
                throw new PauseException(name() + ": " + e.getMessage());
            }
        }

        @Override
        public void resume() {
            slot.transport().device().resume();
            slot.notifier().resume();
        }
    }

    /**
     * The device-tree nodes: one per virtio-mmio slot, in slot order, or the PCI host bridge.
     *
     * @param its the VM has an ITS (the host bridge's msi-parent)
     */
    public List<FdtContributor> deviceTreeNodes(boolean its) {
        if (pci) {
            List<PciDeviceTree.Intx> intx = new ArrayList<>();
            for (int i = 0; i < slots.size(); i++)
                intx.add(new PciDeviceTree.Intx(i, slots.get(i).intid()));
            return List.of(PciDeviceTree.hostBridge(layout, intx, its));
        }
        return slots.stream()
                .map(s -> DeviceTreeBuilder.virtioMmio(s.region(), s.intid()))
                .toList();
    }

    /** The device-tree nodes over virtio-mmio (no ITS matters there). */
    public List<FdtContributor> deviceTreeNodes() {
        return deviceTreeNodes(false);
    }

    /**
     * Resets every device as a driver's status-0 write would: queues disabled, device work stopped,
     * registers back to their initial values, so the next kernel finds fresh devices.
     */
    public void reset() {
        for (Slot s : slots) s.transport().reset();
    }

    /**
     * Stops the notifier threads, then resets and closes each device (disks are flushed there),
     * then the eventfds. Idempotent; a failure in one device is logged and the others are still
     * closed.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (Slot s : slots) s.notifier().close();
        for (Slot s : slots) {
            try {
                s.transport().close();
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, s.name() + ": close failed", e);
            }
        }
        for (Slot s : slots) {
            s.queueEvents().forEach(EventFd::close);
            s.vectorEvents().forEach(EventFd::close);
            s.irq().close();
        }
    }
}
