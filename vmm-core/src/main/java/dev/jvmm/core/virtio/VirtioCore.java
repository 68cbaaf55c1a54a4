package dev.jvmm.core.virtio;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.GuestMemoryException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every virtio transport shares (virtio 1.x spec 2 and 3): device status, feature negotiation,
 * queue set-up and validation, activation at DRIVER_OK, NEEDS_RESET, notifications and the
 * interrupt-status bits. A transport ({@link VirtioMmioTransport}, {@link
 * dev.jvmm.core.virtio.pci.VirtioPciTransport}) only decodes its register window into these calls,
 * so every guarantee against a hostile driver holds for all of them.
 *
 * <p>Status and feature writes follow the spec's order (ACKNOWLEDGE → DRIVER → features →
 * FEATURES_OK → queues → DRIVER_OK); writes out of order are ignored and counted. FEATURES_OK
 * sticks only for a subset of the offered features that includes VERSION_1. Queue geometry is
 * validated when the driver enables a queue. At DRIVER_OK the device is activated with one {@link
 * Virtqueue} per queue; a fatal guest error sets NEEDS_RESET (with a config interrupt) until the
 * driver writes status 0.
 *
 * <p>State is guarded by this object's lock, which transports also take for their own registers.
 * {@link #notifyQueue} does not take it, so device work never blocks register accesses.
 */
public final class VirtioCore {
    private static final System.Logger LOG = System.getLogger(VirtioCore.class.getName());
    private static final long TRANSPORT_FEATURES =
            Virtio.bit(Virtio.F_VERSION_1)
                    | Virtio.bit(Virtio.F_RING_INDIRECT_DESC)
                    | Virtio.bit(Virtio.F_RING_EVENT_IDX);

    final VirtioDevice device;
    final GuestMemory mem;
    final VirtioInterrupt irq;
    final long offered;
    final VirtioErrorCounter errors;
    private final VirtioCoreHost host = new VirtioCoreHost(this);
    final QueueRegisters[] queues;

    // Guarded by this.
    int status;
    long driverFeatures;
    boolean closed;

    volatile boolean activated;
    volatile List<Virtqueue> active = List.of();
    final AtomicInteger interruptStatus = new AtomicInteger();
    final AtomicInteger configGeneration = new AtomicInteger();
    final AtomicInteger needsResetBit = new AtomicInteger();

    public VirtioCore(VirtioDevice device, GuestMemory mem, VirtioInterrupt irq) {
        this.device = device;
        this.mem = mem;
        this.irq = irq;
        int max = device.maxQueueSize();
        if (max <= 0 || Integer.bitCount(max) != 1 || max > Virtio.MAX_QUEUE_SIZE) {
            throw new IllegalArgumentException(
                    device.name() + ": max queue size " + max + " is not a power of two ≤ 32768");
        }
        this.offered = device.deviceFeatures() | TRANSPORT_FEATURES;
        this.errors = new VirtioErrorCounter(device.name());
        this.queues = new QueueRegisters[device.queueCount()];
        for (int i = 0; i < queues.length; i++) queues[i] = new QueueRegisters();
    }

    public VirtioDevice device() {
        return device;
    }

    /**
     * Feature bits offered to the driver (device bits plus VERSION_1, INDIRECT_DESC, EVENT_IDX).
     */
    public long offeredFeatures() {
        return offered;
    }

    public VirtioErrorCounter errorCounter() {
        return errors;
    }

    public int queueCount() {
        return queues.length;
    }

    /** True while the device waits for the driver to reset it after a fatal guest error. */
    public boolean needsReset() {
        return needsResetBit.get() != 0;
    }

    /** True between DRIVER_OK and the next reset (and not stopped by NEEDS_RESET). */
    public boolean isActive() {
        return activated && !needsReset();
    }

    /** Device status as the driver reads it, NEEDS_RESET included. */
    public synchronized int status() {
        return status | needsResetBit.get();
    }

    /** The 32 offered feature bits of word {@code sel}; 0 past the second word. */
    public int deviceFeatures(int sel) {
        return sel == 0 ? (int) offered : sel == 1 ? (int) (offered >>> 32) : 0;
    }

    /** The 32 driver feature bits of word {@code sel} as written so far. */
    public synchronized int driverFeatures(int sel) {
        return sel == 0 ? (int) driverFeatures : sel == 1 ? (int) (driverFeatures >>> 32) : 0;
    }

    /** Interrupt-status bits (used buffer, config change) the driver has not acknowledged. */
    public int interruptStatus() {
        return interruptStatus.get();
    }

    /** Clears {@code bits} of the interrupt status (virtio-mmio's InterruptACK). */
    public void acknowledge(int bits) {
        interruptStatus.getAndUpdate(s -> s & ~bits);
    }

    /** Reads and clears the interrupt status at once (virtio-pci's ISR). */
    public int takeInterruptStatus() {
        return interruptStatus.getAndSet(0);
    }

    public int configGeneration() {
        return configGeneration.get();
    }

    /** Size of queue {@code sel} as written, 0 before the driver wrote one or for no such queue. */
    public synchronized int queueSize(int sel) {
        return sel >= 0 && sel < queues.length ? queues[sel].num : 0;
    }

    public synchronized boolean queueReady(int sel) {
        return sel >= 0 && sel < queues.length && queues[sel].ready;
    }

    /** One of queue {@code sel}'s ring addresses as written: 0 desc, 1 driver, 2 device. */
    public synchronized long queueAddress(int sel, int which) {
        if (sel < 0 || sel >= queues.length) return 0;
        QueueRegisters q = queues[sel];
        return which == 0 ? q.desc : which == 1 ? q.avail : q.used;
    }

    /** A driver write of its feature word {@code sel}. */
    public synchronized void writeDriverFeatures(int sel, int v) {
        if (closed) return;
        if ((status & Virtio.STATUS_DRIVER) == 0
                || (status & (Virtio.STATUS_FEATURES_OK | Virtio.STATUS_FAILED)) != 0) {
            errors.count(
                    VirtioError.WRONG_STATE,
                    "DriverFeatures written in status 0x" + Integer.toHexString(status));
            return;
        }
        if (sel == 0) driverFeatures = QueueRegisters.setLow(driverFeatures, v);
        else if (sel == 1) driverFeatures = QueueRegisters.setHigh(driverFeatures, v);
        else if (v != 0)
            errors.count(VirtioError.FEATURES_REJECTED, "feature bits in DriverFeaturesSel " + sel);
    }

    /**
     * A driver write of one field of queue {@code sel}; {@code register} names the transport's
     * register in error counts. Only between FEATURES_OK and DRIVER_OK, on a queue not yet ready
     * (disabling a queue before DRIVER_OK is always allowed); enabling validates the geometry.
     */
    public synchronized void writeQueue(int sel, QueueField field, int v, String register) {
        if (closed) return;
        if (sel < 0 || sel >= queues.length) {
            errors.count(
                    VirtioError.QUEUE_INDEX,
                    "queue register " + register + " for queue " + Integer.toUnsignedString(sel));
            return;
        }
        QueueRegisters q = queues[sel];
        if (field == QueueField.READY && v == 0 && (status & Virtio.STATUS_DRIVER_OK) == 0) {
            q.ready = false;
            return;
        }
        if ((status & Virtio.STATUS_FEATURES_OK) == 0
                || (status & (Virtio.STATUS_DRIVER_OK | Virtio.STATUS_FAILED)) != 0
                || q.ready) {
            errors.count(
                    VirtioError.WRONG_STATE,
                    "queue "
                            + sel
                            + " register "
                            + register
                            + " written in status 0x"
                            + Integer.toHexString(status)
                            + (q.ready ? " while ready" : ""));
            return;
        }
        switch (field) {
            case SIZE -> q.num = v;
            case DESC_LOW -> q.desc = QueueRegisters.setLow(q.desc, v);
            case DESC_HIGH -> q.desc = QueueRegisters.setHigh(q.desc, v);
            case DRIVER_LOW -> q.avail = QueueRegisters.setLow(q.avail, v);
            case DRIVER_HIGH -> q.avail = QueueRegisters.setHigh(q.avail, v);
            case DEVICE_LOW -> q.used = QueueRegisters.setLow(q.used, v);
            case DEVICE_HIGH -> q.used = QueueRegisters.setHigh(q.used, v);
            case READY -> {
                String bad =
                        v != 1
                                ? "QueueReady " + v
                                : Virtqueue.validate(
                                        mem, q.num, device.maxQueueSize(), q.desc, q.avail, q.used);
                if (bad != null)
                    errors.count(VirtioError.QUEUE_INVALID, "queue " + sel + ": " + bad);
                else q.ready = true;
            }
        }
    }

    /** A driver write of the device status; 0 resets the device. */
    public synchronized void writeStatus(int v) {
        if (closed) return;
        if (v == 0) {
            reset();
            return;
        }
        int old = status;
        if ((v & old) != old || (v & ~0xff) != 0 || (v & Virtio.STATUS_NEEDS_RESET) != 0) {
            errors.count(
                    VirtioError.WRONG_STATE,
                    "status 0x" + Integer.toHexString(old) + " -> 0x" + Integer.toHexString(v));
            return;
        }
        int add = v & ~old;
        if ((add & Virtio.STATUS_FAILED) != 0)
            status |= Virtio.STATUS_FAILED; // the driver gave up; keep what it says
        if ((status & Virtio.STATUS_FAILED) != 0) return;
        if ((add & Virtio.STATUS_ACKNOWLEDGE) != 0) status |= Virtio.STATUS_ACKNOWLEDGE;
        if ((add & Virtio.STATUS_DRIVER) != 0 && step(Virtio.STATUS_ACKNOWLEDGE, "DRIVER"))
            status |= Virtio.STATUS_DRIVER;
        if ((add & Virtio.STATUS_FEATURES_OK) != 0 && step(Virtio.STATUS_DRIVER, "FEATURES_OK")) {
            long extra = driverFeatures & ~offered;
            if (extra != 0 || (driverFeatures & Virtio.bit(Virtio.F_VERSION_1)) == 0) {
                errors.count(
                        VirtioError.FEATURES_REJECTED,
                        String.format(
                                "driver features 0x%x (offered 0x%x)%s",
                                driverFeatures, offered, extra != 0 ? "" : ": VERSION_1 missing"));
            } else {
                status |= Virtio.STATUS_FEATURES_OK;
            }
        }
        if ((add & Virtio.STATUS_DRIVER_OK) != 0 && step(Virtio.STATUS_FEATURES_OK, "DRIVER_OK")) {
            status |= Virtio.STATUS_DRIVER_OK;
            activate(null);
        }
    }

    private boolean step(int required, String what) {
        if ((status & required) != 0) return true;
        errors.count(
                VirtioError.WRONG_STATE, what + " set in status 0x" + Integer.toHexString(status));
        return false;
    }

    /**
     * DRIVER_OK's activation; {@code restored} (when not null) puts each queue where a snapshot's
     * stood before the device sees it, so the device goes on from the saved ring indices.
     */
    synchronized void activate(List<VirtqueueState> restored) {
        List<Virtqueue> vqs = new ArrayList<>(queues.length);
        boolean indirect = (driverFeatures & Virtio.bit(Virtio.F_RING_INDIRECT_DESC)) != 0;
        boolean eventIdx = (driverFeatures & Virtio.bit(Virtio.F_RING_EVENT_IDX)) != 0;
        for (int i = 0; i < queues.length; i++) {
            QueueRegisters q = queues[i];
            if (!q.ready) {
                host.fail(VirtioError.QUEUE_NOT_READY, "queue " + i + " not ready at DRIVER_OK");
                return;
            }
            Virtqueue vq =
                    new Virtqueue(i, q.num, q.desc, q.avail, q.used, mem, indirect, eventIdx, host);
            if (restored != null) vq.restoreIndices(restored.get(i));
            vqs.add(vq);
        }
        active = List.copyOf(vqs);
        activated = true;
        try {
            device.activate(new VirtioActivation(driverFeatures, vqs, mem, host));
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, device.name() + ": activation failed", e);
            host.fail(VirtioError.DEVICE_FAILURE, "activation failed: " + e);
        }
    }

    /** Status 0: queues disabled, the device reset, every register back to its initial value. */
    synchronized void reset() {
        boolean wasActive = activated;
        activated = false;
        for (Virtqueue q : active) q.disable();
        active = List.of();
        if (wasActive) {
            try {
                device.reset();
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, device.name() + ": reset failed", e);
                errors.count(VirtioError.DEVICE_FAILURE, "reset failed: " + e);
            }
        }
        status = 0;
        driverFeatures = 0;
        for (QueueRegisters q : queues) q.clear();
        interruptStatus.set(0);
        needsResetBit.set(0);
    }

    /** Reads or writes the device's config space, bounds- and state-checked. */
    public void config(long offset, byte[] data, boolean isWrite) {
        VirtioConfigAccess.access(this, offset, data, isWrite);
    }

    /**
     * The driver notified queue {@code queueIndex} (an ioeventfd or a notify register). Bad indices
     * are counted and ignored (CVE-2011-2512); notifications before DRIVER_OK or while NEEDS_RESET
     * are ignored. Never throws.
     */
    public void notifyQueue(int queueIndex) {
        if (queueIndex < 0 || queueIndex >= queues.length) {
            errors.count(
                    VirtioError.QUEUE_INDEX,
                    "QueueNotify " + Integer.toUnsignedString(queueIndex) + " >= " + queues.length);
            return;
        }
        if (!activated || needsReset()) return;
        try {
            device.queueNotify(queueIndex);
        } catch (GuestMemoryException | IndexOutOfBoundsException e) {
            host.fail(VirtioError.GUEST_MEMORY, "queue " + queueIndex + ": " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(
                    Level.ERROR,
                    device.name() + ": queue " + queueIndex + " notification failed",
                    e);
            host.fail(VirtioError.DEVICE_FAILURE, "queue " + queueIndex + ": " + e);
        }
    }

    /** Resets the device and closes it (flushes and closes its backends). Idempotent. */
    public synchronized void close() {
        if (closed) return;
        reset();
        closed = true;
        device.close();
    }
}
