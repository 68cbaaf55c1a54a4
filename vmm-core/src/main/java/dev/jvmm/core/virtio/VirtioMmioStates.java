package dev.jvmm.core.virtio;

import dev.jvmm.core.snapshot.SnapshotException;
import java.util.ArrayList;
import java.util.List;

/**
 * Saves a {@link VirtioMmioTransport} into a {@link VirtioMmioState} and checks and applies one;
 * called under the transport's lock. Kept apart from the transport, whose job is the register
 * window.
 */
final class VirtioMmioStates {
    private VirtioMmioStates() {}

    /** The registers, each queue (from its live ring once activated) and the device's own state. */
    static VirtioMmioState save(VirtioMmioTransport t) {
        VirtioCore c = t.core;
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
        return new VirtioMmioState(
                c.status,
                t.deviceFeaturesSel,
                t.driverFeaturesSel,
                c.driverFeatures,
                t.queueSel,
                c.interruptStatus.get(),
                c.configGeneration.get(),
                c.needsReset(),
                qs,
                DeviceStateJson.toMap(c.device.saveDeviceState()));
    }

    /**
     * Puts freshly built {@code t} into {@code s}, and returns whether the caller must activate the
     * device: a state with DRIVER_OK and every queue ready activates it exactly as the driver's
     * DRIVER_OK write would, with each queue going on from its saved ring indices; the irqfd and
     * ioeventfds were wired at build, so notifications and interrupts work again at once. Guest RAM
     * must already hold the snapshot's contents: a device may look at its rings when activated
     * (buffered console input). Interrupts the driver has not acknowledged are not raised again:
     * the restored interrupt controller still has them.
     *
     * @throws SnapshotException naming the transport and the field when {@code s} does not fit;
     *     nothing is applied then
     */
    static boolean restore(VirtioMmioTransport t, VirtioMmioState s) {
        String part = t.stateKey();
        VirtioCore c = t.core;
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
        t.deviceFeaturesSel = s.deviceFeaturesSel();
        t.driverFeaturesSel = s.driverFeaturesSel();
        c.driverFeatures = s.driverFeatures();
        t.queueSel = s.queueSel();
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
}
