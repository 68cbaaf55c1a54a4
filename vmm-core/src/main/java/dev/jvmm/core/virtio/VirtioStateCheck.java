package dev.jvmm.core.virtio;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.snapshot.SnapshotException;

/**
 * Checks a {@link VirtioState} against the transport it is restored into, before anything is
 * applied. A snapshot is input: each refusal names the transport and the field. The rules are the
 * ones the live transport enforces on the driver, so every state a guest can reach passes.
 */
final class VirtioStateCheck {
    private static final int STATUS_BITS =
            Virtio.STATUS_ACKNOWLEDGE
                    | Virtio.STATUS_DRIVER
                    | Virtio.STATUS_FEATURES_OK
                    | Virtio.STATUS_DRIVER_OK
                    | Virtio.STATUS_FAILED;

    private final String part;

    private VirtioStateCheck(String part) {
        this.part = part;
    }

    /**
     * Returns whether the state is an activated device (DRIVER_OK with every queue ready).
     *
     * @throws SnapshotException naming {@code part} and the field that does not fit
     */
    static boolean check(
            VirtioState s,
            String part,
            long offered,
            int queueCount,
            int maxQueueSize,
            GuestMemory mem) {
        return new VirtioStateCheck(part).run(s, offered, queueCount, maxQueueSize, mem);
    }

    private boolean run(
            VirtioState s, long offered, int queueCount, int maxQueueSize, GuestMemory mem) {
        int st = s.status();
        if ((st & ~STATUS_BITS) != 0)
            bad("status 0x" + Integer.toHexString(st) + " has unknown bits");
        requires(st, Virtio.STATUS_DRIVER, Virtio.STATUS_ACKNOWLEDGE);
        requires(st, Virtio.STATUS_FEATURES_OK, Virtio.STATUS_DRIVER);
        requires(st, Virtio.STATUS_DRIVER_OK, Virtio.STATUS_FEATURES_OK);
        boolean featuresOk = (st & Virtio.STATUS_FEATURES_OK) != 0;
        // Before FEATURES_OK the driver may still hold bits the device will refuse; after it the
        // transport accepted only offered ones with VERSION_1.
        if (featuresOk) {
            long extra = s.driverFeatures() & ~offered;
            if (extra != 0) {
                bad(
                        "driverFeatures has bit "
                                + Long.numberOfTrailingZeros(extra)
                                + ", which the device never offered");
            }
            if ((s.driverFeatures() & Virtio.bit(Virtio.F_VERSION_1)) == 0)
                bad("driverFeatures lacks VERSION_1 with FEATURES_OK");
        }
        if (s.queueSel() < 0) bad("queueSel " + s.queueSel());
        if ((s.interruptStatus() & ~(Virtio.INT_USED_BUFFER | Virtio.INT_CONFIG_CHANGE)) != 0)
            bad("interruptStatus 0x" + Integer.toHexString(s.interruptStatus()));
        if (s.queues() == null || s.queues().size() != queueCount) {
            bad(
                    "queues: "
                            + (s.queues() == null ? "missing" : s.queues().size())
                            + ", the device has "
                            + queueCount);
        }
        boolean allReady = true;
        for (VirtqueueState q : s.queues()) allReady &= q != null && q.ready();
        boolean active = (st & Virtio.STATUS_DRIVER_OK) != 0 && allReady;
        if ((st & Virtio.STATUS_DRIVER_OK) != 0 && !allReady && !s.needsReset())
            bad("DRIVER_OK with a queue not ready and no NEEDS_RESET");
        for (int i = 0; i < queueCount; i++) {
            queue(i, s.queues().get(i), featuresOk, active, maxQueueSize, mem);
        }
        return active;
    }

    private void queue(
            int i, VirtqueueState q, boolean featuresOk, boolean active, int max, GuestMemory mem) {
        String name = "queue " + i + ": ";
        if (q == null) bad(name + "missing");
        if (q.ready()) {
            if (!featuresOk) bad(name + "ready before FEATURES_OK");
            String why = Virtqueue.validate(mem, q.size(), max, q.desc(), q.avail(), q.used());
            if (why != null) bad(name + why);
        }
        for (int idx : new int[] {q.nextAvail(), q.nextUsed(), q.signalledUsed()}) {
            if ((idx & ~0xffff) != 0) bad(name + "ring index " + idx + " is not a u16");
        }
        if (!active && (q.nextAvail() | q.nextUsed() | q.signalledUsed()) != 0)
            bad(name + "ring indices on a device that is not active");
        if (!active && q.broken()) bad(name + "broken on a device that is not active");
        // Pause leaves no request in flight (chains a device still held are given back at save),
        // so a restored queue starts with avail and used level: an avail index ahead of the used
        // one would be chains no device will ever complete.
        if (q.nextAvail() != q.nextUsed()) {
            bad(
                    name
                            + "nextAvail "
                            + q.nextAvail()
                            + " is ahead of nextUsed "
                            + q.nextUsed()
                            + " (requests in flight)");
        }
    }

    private void requires(int status, int bit, int needed) {
        if ((status & bit) != 0 && (status & needed) == 0)
            bad("status 0x" + Integer.toHexString(status) + " skips a step of the handshake");
    }

    private void bad(String what) {
        throw SnapshotException.invalid(part, what);
    }
}
