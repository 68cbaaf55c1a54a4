package dev.jvmm.core.virtio;

import dev.jvmm.core.snapshot.SnapshotException;
import java.util.ArrayList;
import java.util.List;

/**
 * Saves a {@link VirtioCore} with its transport's three selectors into a {@link VirtioState} and
 * checks and applies one; called under the core's lock. The same record serves every transport
 * (virtio-mmio's registers, virtio-pci's common configuration), so both keep one set of checks
 * against hostile records. Kept apart from the transports, whose job is their register windows.
 */
public final class VirtioStates {
    private VirtioStates() {}

    /** A virtio-mmio transport's record. */
    static VirtioState save(VirtioMmioTransport t) {
        return save(t.core, t.deviceFeaturesSel, t.driverFeaturesSel, t.queueSel);
    }

    /**
     * The core's registers, each queue (from its live ring once activated) and the device's own
     * state, with the transport's selectors; the caller holds the core's lock.
     */
    public static VirtioState save(
            VirtioCore c, int deviceFeaturesSel, int driverFeaturesSel, int queueSel) {
        List<VirtqueueState> qs = new ArrayList<>(c.queues.length);
        List<Virtqueue> live = c.activated ? c.active : List.of();
        for (int i = 0; i < c.queues.length; i++) {
            QueueRegisters q = c.queues[i];
            qs.add(
                    i < live.size()
                            ? live.get(i).saveState()
                            : new VirtqueueState(
                                    q.num, q.ready, q.desc, q.avail, q.used, 0, 0, 0, false));
        }
        return new VirtioState(
                c.status,
                deviceFeaturesSel,
                driverFeaturesSel,
                c.driverFeatures,
                queueSel,
                c.interruptStatus.get(),
                c.configGeneration.get(),
                c.needsReset(),
                qs,
                DeviceStateJson.toMap(c.device.saveDeviceState()));
    }

    /** {@link #restore(VirtioCore, VirtioState, String)} for a virtio-mmio transport. */
    static boolean restore(VirtioMmioTransport t, VirtioState s) {
        boolean activate = restore(t.core, s, t.stateKey());
        t.deviceFeaturesSel = s.deviceFeaturesSel();
        t.driverFeaturesSel = s.driverFeaturesSel();
        t.queueSel = s.queueSel();
        return activate;
    }

    /**
     * Puts freshly built core {@code c} into {@code s} (the transport takes the selectors itself),
     * and returns whether the caller must {@link #activate} the device: a state with DRIVER_OK and
     * every queue ready activates it exactly as the driver's DRIVER_OK write would, with each queue
     * going on from its saved ring indices; the irqfd and ioeventfds are wired before that, so
     * notifications and interrupts work again at once. Guest RAM must already hold the snapshot's
     * contents: a device may look at its rings when activated (buffered console input). Interrupts
     * the driver has not acknowledged are not raised again: the restored interrupt controller still
     * has them.
     *
     * @param part the transport's state key, named in refusals
     * @throws SnapshotException naming the transport and the field when {@code s} does not fit;
     *     nothing is applied then
     */
    public static boolean restore(VirtioCore c, VirtioState s, String part) {
        if (c.activated || c.status != 0 || c.closed)
            throw new IllegalStateException(part + ": restore into a used transport");
        VirtioDevice device = c.device;
        boolean activate =
                VirtioStateCheck.check(
                        s, part, c.offered, c.queues.length, device.maxQueueSize(), c.mem);
        Class<? extends Record> type = device.deviceStateType();
        if ((type == null) != (s.device() == null)) {
            throw SnapshotException.invalid(
                    part,
                    "device state "
                            + (type == null ? "given for " : "missing for ")
                            + device.name());
        }
        if (type != null)
            device.restoreDeviceState(DeviceStateJson.fromMap(s.device(), type, part), part);
        c.status = s.status();
        c.driverFeatures = s.driverFeatures();
        for (int i = 0; i < c.queues.length; i++) {
            VirtqueueState q = s.queues().get(i);
            c.queues[i].num = q.size();
            c.queues[i].ready = q.ready();
            c.queues[i].desc = q.desc();
            c.queues[i].avail = q.avail();
            c.queues[i].used = q.used();
        }
        c.interruptStatus.set(s.interruptStatus());
        c.configGeneration.set(s.configGeneration());
        if (s.needsReset()) c.needsResetBit.set(Virtio.STATUS_NEEDS_RESET);
        return activate;
    }

    /** Activates the restored device with each queue at its saved ring indices. */
    public static void activate(VirtioCore c, VirtioState s) {
        c.activate(s.queues());
    }
}
