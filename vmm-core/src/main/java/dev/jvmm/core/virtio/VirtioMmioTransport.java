package dev.jvmm.core.virtio;

import dev.jvmm.core.device.MmioDevice;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.GuestMemoryException;
import dev.jvmm.core.snapshot.Snapshottable;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * virtio-mmio transport, version 2 (modern; virtio 1.x spec 4.2.2), for one {@link VirtioDevice}.
 * Registers are 4-byte only; anything else is ignored (reads 0) and counted. Status and feature
 * writes follow the spec's order (ACKNOWLEDGE → DRIVER → features → FEATURES_OK → queues →
 * DRIVER_OK); writes out of order are ignored and counted. FEATURES_OK sticks only for a subset of
 * the offered features that includes VERSION_1. Queue geometry is validated when the driver sets
 * QueueReady. At DRIVER_OK the device is activated with one {@link Virtqueue} per queue; a fatal
 * guest error sets NEEDS_RESET (with a config interrupt) until the driver writes status 0.
 *
 * <p>Register accesses are serialized on this object. {@link #notifyQueue} (the ioeventfd path and
 * the QueueNotify register) does not take that lock, so device work never blocks other register
 * accesses.
 */
public final class VirtioMmioTransport
        implements MmioDevice, AutoCloseable, Snapshottable<VirtioMmioState> {
    public static final int MAGIC = 0x74726976; // "virt"
    public static final int VERSION = 2;
    public static final int VENDOR_ID = 0x4d4d564a; // "JVMM" as little-endian bytes

    /** Size of the register window: 0x100 of registers, then config space. */
    public static final int REGION_SIZE = 0x200;

    public static final int QUEUE_NOTIFY_OFFSET = 0x50;
    public static final int CONFIG_OFFSET = 0x100;

    private static final System.Logger LOG = System.getLogger(VirtioMmioTransport.class.getName());
    private static final long TRANSPORT_FEATURES =
            Virtio.bit(Virtio.F_VERSION_1)
                    | Virtio.bit(Virtio.F_RING_INDIRECT_DESC)
                    | Virtio.bit(Virtio.F_RING_EVENT_IDX);

    final VirtioDevice device;
    private final long base;
    final GuestMemory mem;
    final VirtioInterrupt irq;
    final long offered;
    final VirtioErrorCounter errors;
    private final VirtioMmioHost host = new VirtioMmioHost(this);
    final QueueRegisters[] queues;

    // Guarded by this; VirtioMmioStates reads and writes them under it too.
    int status;
    int deviceFeaturesSel;
    int driverFeaturesSel;
    long driverFeatures;
    int queueSel;
    boolean closed;

    volatile boolean activated;
    volatile List<Virtqueue> active = List.of();
    final AtomicInteger interruptStatus = new AtomicInteger();
    final AtomicInteger configGeneration = new AtomicInteger();
    final AtomicInteger needsResetBit = new AtomicInteger();

    public VirtioMmioTransport(VirtioDevice device, GuestMemory mem, VirtioInterrupt irq) {
        this(device, 0, mem, irq);
    }

    /**
     * @param base the guest physical address of the register window (names the snapshot part)
     */
    public VirtioMmioTransport(
            VirtioDevice device, long base, GuestMemory mem, VirtioInterrupt irq) {
        this.device = device;
        this.base = base;
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

    /** Guest and backend errors counted so far, all kinds. */
    public long errors() {
        return errors.total();
    }

    /** Errors of one kind. */
    public long errors(VirtioError kind) {
        return errors.count(kind);
    }

    public VirtioErrorCounter errorCounter() {
        return errors;
    }

    /** True while the device waits for the driver to reset it after a fatal guest error. */
    public boolean needsReset() {
        return needsResetBit.get() != 0;
    }

    /** True between DRIVER_OK and the next reset (and not stopped by NEEDS_RESET). */
    public boolean isActive() {
        return activated && !needsReset();
    }

    public synchronized int status() {
        return status | needsResetBit.get();
    }

    @Override
    public void read(long offset, byte[] data) {
        if (offset >= CONFIG_OFFSET) {
            VirtioMmioConfig.access(this, offset - CONFIG_OFFSET, data, false);
            return;
        }
        if (data.length != 4 || (offset & 3) != 0) {
            errors.count(
                    VirtioError.REGISTER_ACCESS,
                    data.length + "-byte read at register offset 0x" + Long.toHexString(offset));
            Arrays.fill(data, (byte) 0);
            return;
        }
        int v = readRegister((int) offset);
        ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).putInt(0, v);
    }

    @Override
    public void write(long offset, byte[] data) {
        if (offset >= CONFIG_OFFSET) {
            VirtioMmioConfig.access(this, offset - CONFIG_OFFSET, data, true);
            return;
        }
        if (data.length != 4 || (offset & 3) != 0) {
            errors.count(
                    VirtioError.REGISTER_ACCESS,
                    data.length + "-byte write at register offset 0x" + Long.toHexString(offset));
            return;
        }
        int v = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
        if (offset == QUEUE_NOTIFY_OFFSET) {
            notifyQueue(v); // outside the register lock: device work may be long
            return;
        }
        writeRegister((int) offset, v);
    }

    private synchronized int readRegister(int off) {
        QueueRegisters q = queueSel < queues.length ? queues[queueSel] : null;
        return switch (off) {
            case 0x000 -> MAGIC;
            case 0x004 -> VERSION;
            case 0x008 -> device.deviceType();
            case 0x00c -> VENDOR_ID;
            case 0x010 ->
                    deviceFeaturesSel == 0
                            ? (int) offered
                            : deviceFeaturesSel == 1 ? (int) (offered >>> 32) : 0;
            case 0x034 ->
                    q == null
                            ? 0
                            : device.maxQueueSize(); // 0 tells the driver the queue does not exist
            case 0x044 -> q != null && q.ready ? 1 : 0;
            case 0x060 -> interruptStatus.get();
            case 0x070 -> status | needsResetBit.get();
            case 0x0b0, 0x0b4, 0x0b8, 0x0bc -> -1; // no shared memory regions (length ~0)
            case 0x0fc -> configGeneration.get();
            default -> {
                errors.count(
                        VirtioError.REGISTER_ACCESS,
                        "read of write-only or unknown register 0x" + Integer.toHexString(off));
                yield 0;
            }
        };
    }

    private synchronized void writeRegister(int off, int v) {
        if (closed) return;
        switch (off) {
            case 0x014 -> deviceFeaturesSel = v;
            case 0x020 -> writeDriverFeatures(v);
            case 0x024 -> driverFeaturesSel = v;
            case 0x030 -> {
                if (Integer.toUnsignedLong(v) >= queues.length) {
                    errors.count(
                            VirtioError.QUEUE_INDEX,
                            "QueueSel " + Integer.toUnsignedString(v) + " >= " + queues.length);
                }
                queueSel =
                        v < 0
                                ? Integer.MAX_VALUE
                                : v; // later queue register accesses see "no such queue"
            }
            case 0x038, 0x080, 0x084, 0x090, 0x094, 0x0a0, 0x0a4, 0x044 -> writeQueue(off, v);
            case 0x064 -> interruptStatus.getAndUpdate(s -> s & ~v);
            case 0x070 -> writeStatus(v);
            case 0x0ac -> {} // SHMSel: every region reads as absent
            default ->
                    errors.count(
                            VirtioError.REGISTER_ACCESS,
                            "write of read-only or unknown register 0x" + Integer.toHexString(off));
        }
    }

    private void writeDriverFeatures(int v) {
        if ((status & Virtio.STATUS_DRIVER) == 0
                || (status & (Virtio.STATUS_FEATURES_OK | Virtio.STATUS_FAILED)) != 0) {
            errors.count(
                    VirtioError.WRONG_STATE,
                    "DriverFeatures written in status 0x" + Integer.toHexString(status));
            return;
        }
        if (driverFeaturesSel == 0) driverFeatures = QueueRegisters.setLow(driverFeatures, v);
        else if (driverFeaturesSel == 1) driverFeatures = QueueRegisters.setHigh(driverFeatures, v);
        else if (v != 0)
            errors.count(
                    VirtioError.FEATURES_REJECTED,
                    "feature bits in DriverFeaturesSel " + driverFeaturesSel);
    }

    private void writeQueue(int off, int v) {
        if (queueSel >= queues.length) {
            errors.count(
                    VirtioError.QUEUE_INDEX,
                    "queue register 0x" + Integer.toHexString(off) + " for QueueSel " + queueSel);
            return;
        }
        QueueRegisters q = queues[queueSel];
        if (off == 0x044 && v == 0 && (status & Virtio.STATUS_DRIVER_OK) == 0) {
            q.ready = false;
            return;
        }
        if ((status & Virtio.STATUS_FEATURES_OK) == 0
                || (status & (Virtio.STATUS_DRIVER_OK | Virtio.STATUS_FAILED)) != 0
                || q.ready) {
            errors.count(
                    VirtioError.WRONG_STATE,
                    "queue "
                            + queueSel
                            + " register 0x"
                            + Integer.toHexString(off)
                            + " written in status 0x"
                            + Integer.toHexString(status)
                            + (q.ready ? " while ready" : ""));
            return;
        }
        switch (off) {
            case 0x038 -> q.num = v;
            case 0x080 -> q.desc = QueueRegisters.setLow(q.desc, v);
            case 0x084 -> q.desc = QueueRegisters.setHigh(q.desc, v);
            case 0x090 -> q.avail = QueueRegisters.setLow(q.avail, v);
            case 0x094 -> q.avail = QueueRegisters.setHigh(q.avail, v);
            case 0x0a0 -> q.used = QueueRegisters.setLow(q.used, v);
            case 0x0a4 -> q.used = QueueRegisters.setHigh(q.used, v);
            case 0x044 -> {
                String bad =
                        v != 1
                                ? "QueueReady " + v
                                : Virtqueue.validate(
                                        mem, q.num, device.maxQueueSize(), q.desc, q.avail, q.used);
                if (bad != null)
                    errors.count(VirtioError.QUEUE_INVALID, "queue " + queueSel + ": " + bad);
                else q.ready = true;
            }
            default -> throw new AssertionError(off);
        }
    }

    private void writeStatus(int v) {
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
            activate();
        }
    }

    private boolean step(int required, String what) {
        if ((status & required) != 0) return true;
        errors.count(
                VirtioError.WRONG_STATE, what + " set in status 0x" + Integer.toHexString(status));
        return false;
    }

    private void activate() {
        activate(null);
    }

    /**
     * DRIVER_OK's activation; {@code restored} (when not null) puts each queue where a snapshot's
     * stood before the device sees it, so the device goes on from the saved ring indices.
     */
    private void activate(List<VirtqueueState> restored) {
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

    private void reset() {
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
        deviceFeaturesSel = driverFeaturesSel = queueSel = 0;
        driverFeatures = 0;
        for (QueueRegisters q : queues) q.clear();
        interruptStatus.set(0);
        needsResetBit.set(0);
    }

    /**
     * The driver notified queue {@code queueIndex}: the ioeventfd path calls this directly, a
     * QueueNotify register write ends here too. Bad indices are counted and ignored
     * (CVE-2011-2512); notifications before DRIVER_OK or while NEEDS_RESET are ignored. Never
     * throws.
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

    /**
     * Resets the device (as a status-0 write would) and closes it: flushes and closes its backends.
     * Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        reset();
        closed = true;
        device.close();
    }

    @Override
    public String stateKey() {
        return "virtio.0x" + Long.toHexString(base);
    }

    @Override
    public Class<VirtioMmioState> stateType() {
        return VirtioMmioState.class;
    }

    @Override
    public synchronized VirtioMmioState saveState() {
        return VirtioMmioStates.save(this);
    }

    /** Puts this freshly built transport into {@code s} (see {@link VirtioMmioStates#restore}). */
    @Override
    public synchronized void restoreState(VirtioMmioState s) {
        if (VirtioMmioStates.restore(this, s)) activate(s.queues());
    }

    @Override
    public String toString() {
        return "virtio-mmio(" + device.name() + ", status 0x" + Integer.toHexString(status()) + ")";
    }
}
