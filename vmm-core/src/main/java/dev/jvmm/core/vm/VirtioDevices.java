package dev.jvmm.core.vm;

import dev.jvmm.core.arch.DeviceTreeBuilder;
import dev.jvmm.core.arch.FdtContributor;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.device.MmioBus;
import dev.jvmm.core.device.QueueNotifier;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioMmioTransport;
import dev.jvmm.core.virtio.console.VirtioConsoleDevice;
import dev.jvmm.kvm.sys.EventFd;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;

/**
 * A VM's virtio devices, wired: device n gets the n-th virtio-mmio slot of the {@link Layout} and
 * its SPI, a transport on the MMIO bus, an irqfd for its interrupt, one datamatched ioeventfd per
 * queue on the QueueNotify register and a {@link QueueNotifier} thread that turns those into device
 * work. The guest's device tree gets one {@code virtio,mmio} node per device, in slot order (so
 * disks become vda, vdb, ... in the order given).
 *
 * <p>Lifecycle: {@link #reset} before an in-place reboot (nothing may write into the old rings
 * while the new kernel loads), {@link #close} on every way out, before guest RAM is unmapped.
 */
public final class VirtioDevices implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(VirtioDevices.class.getName());
    private static final byte[] STATUS_RESET = new byte[4];
    private static final int STATUS_OFFSET = 0x70;

    /** One wired device. */
    public record Slot(
            Layout.Region region,
            int intid,
            VirtioMmioTransport transport,
            EventFd irq,
            List<EventFd> queueEvents,
            QueueNotifier notifier) {
        public String name() {
            return region.name() + ":" + transport.device().name();
        }
    }

    private final List<Slot> slots;
    private boolean closed;

    private VirtioDevices(List<Slot> slots) {
        this.slots = List.copyOf(slots);
    }

    /** No devices. */
    public static VirtioDevices none() {
        return new VirtioDevices(List.of());
    }

    /**
     * Wires {@code devices} in order. On failure everything wired so far is closed, {@code devices}
     * included, and the exception is rethrown.
     */
    public static VirtioDevices wire(
            List<VirtioDevice> devices,
            Layout layout,
            MmioBus bus,
            GuestMemory mem,
            NotificationRouting kvm) {
        List<Slot> slots = new ArrayList<>();
        List<AutoCloseable> undo = new ArrayList<>();
        int owned = 0; // devices[0, owned) belong to a transport, which closes them
        try {
            for (int i = 0; i < devices.size(); i++) {
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
                slots.add(new Slot(region, intid, t, irq, List.copyOf(events), n));
            }
            return new VirtioDevices(slots);
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

    /** The device-tree nodes, in slot order. */
    public List<FdtContributor> deviceTreeNodes() {
        return slots.stream()
                .map(s -> DeviceTreeBuilder.virtioMmio(s.region(), s.intid()))
                .toList();
    }

    /**
     * Resets every device as a driver's status-0 write would: queues disabled, device work stopped,
     * registers back to their initial values, so the next kernel finds fresh devices.
     */
    public void reset() {
        for (Slot s : slots) s.transport().write(STATUS_OFFSET, STATUS_RESET);
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
            s.irq().close();
        }
    }
}
