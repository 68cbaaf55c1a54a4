package dev.jvmm.core.virtio;

import dev.jvmm.core.device.MmioDevice;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.snapshot.Snapshottable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * virtio-mmio transport, version 2 (modern; virtio 1.x spec 4.2.2), for one {@link VirtioDevice}: a
 * register decoder over a {@link VirtioCore}, which holds status, features, queues and activation.
 * Registers are 4-byte only; anything else is ignored (reads 0) and counted. The selector registers
 * (DeviceFeaturesSel, DriverFeaturesSel, QueueSel) are this window's own.
 *
 * <p>Register accesses are serialized on the core's lock. {@link #notifyQueue} (the ioeventfd path
 * and the QueueNotify register) does not take it, so device work never blocks other register
 * accesses.
 */
public final class VirtioMmioTransport
        implements MmioDevice, VirtioTransport, Snapshottable<VirtioState> {
    public static final int MAGIC = 0x74726976; // "virt"
    public static final int VERSION = 2;
    public static final int VENDOR_ID = 0x4d4d564a; // "JVMM" as little-endian bytes

    /** Size of the register window: 0x100 of registers, then config space. */
    public static final int REGION_SIZE = 0x200;

    public static final int QUEUE_NOTIFY_OFFSET = 0x50;
    public static final int CONFIG_OFFSET = 0x100;

    final VirtioCore core;
    private final long base;

    // Guarded by core; VirtioStates reads and writes them under it too.
    int deviceFeaturesSel;
    int driverFeaturesSel;
    int queueSel;

    public VirtioMmioTransport(VirtioDevice device, GuestMemory mem, VirtioInterrupt irq) {
        this(device, 0, mem, irq);
    }

    /**
     * @param base the guest physical address of the register window (names the snapshot part)
     */
    public VirtioMmioTransport(
            VirtioDevice device, long base, GuestMemory mem, VirtioInterrupt irq) {
        this.core = new VirtioCore(device, mem, irq);
        this.base = base;
    }

    @Override
    public VirtioCore core() {
        return core;
    }

    @Override
    public VirtioDevice device() {
        return core.device;
    }

    /**
     * Feature bits offered to the driver (device bits plus VERSION_1, INDIRECT_DESC, EVENT_IDX).
     */
    public long offeredFeatures() {
        return core.offered;
    }

    /** Guest and backend errors counted so far, all kinds. */
    public long errors() {
        return core.errors.total();
    }

    /** Errors of one kind. */
    public long errors(VirtioError kind) {
        return core.errors.count(kind);
    }

    public VirtioErrorCounter errorCounter() {
        return core.errors;
    }

    /** True while the device waits for the driver to reset it after a fatal guest error. */
    public boolean needsReset() {
        return core.needsReset();
    }

    /** True between DRIVER_OK and the next reset (and not stopped by NEEDS_RESET). */
    public boolean isActive() {
        return core.isActive();
    }

    public int status() {
        return core.status();
    }

    @Override
    public void read(long offset, byte[] data) {
        if (offset >= CONFIG_OFFSET) {
            core.config(offset - CONFIG_OFFSET, data, false);
            return;
        }
        if (data.length != 4 || (offset & 3) != 0) {
            core.errors.count(
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
            core.config(offset - CONFIG_OFFSET, data, true);
            return;
        }
        if (data.length != 4 || (offset & 3) != 0) {
            core.errors.count(
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

    private int readRegister(int off) {
        synchronized (core) {
            boolean queue = queueSel < core.queueCount();
            return switch (off) {
                case 0x000 -> MAGIC;
                case 0x004 -> VERSION;
                case 0x008 -> core.device.deviceType();
                case 0x00c -> VENDOR_ID;
                case 0x010 -> core.deviceFeatures(deviceFeaturesSel);
                // 0 tells the driver the queue does not exist
                case 0x034 -> queue ? core.device.maxQueueSize() : 0;
                case 0x044 -> core.queueReady(queueSel) ? 1 : 0;
                case 0x060 -> core.interruptStatus();
                case 0x070 -> core.status();
                case 0x0b0, 0x0b4, 0x0b8, 0x0bc -> -1; // no shared memory regions (length ~0)
                case 0x0fc -> core.configGeneration();
                default -> {
                    core.errors.count(
                            VirtioError.REGISTER_ACCESS,
                            "read of write-only or unknown register 0x" + Integer.toHexString(off));
                    yield 0;
                }
            };
        }
    }

    private void writeRegister(int off, int v) {
        synchronized (core) {
            if (core.closed) return;
            switch (off) {
                case 0x014 -> deviceFeaturesSel = v;
                case 0x020 -> core.writeDriverFeatures(driverFeaturesSel, v);
                case 0x024 -> driverFeaturesSel = v;
                case 0x030 -> {
                    if (Integer.toUnsignedLong(v) >= core.queueCount()) {
                        core.errors.count(
                                VirtioError.QUEUE_INDEX,
                                "QueueSel "
                                        + Integer.toUnsignedString(v)
                                        + " >= "
                                        + core.queueCount());
                    }
                    // later queue register accesses see "no such queue"
                    queueSel = v < 0 ? Integer.MAX_VALUE : v;
                }
                case 0x038 -> writeQueue(off, QueueField.SIZE, v);
                case 0x080 -> writeQueue(off, QueueField.DESC_LOW, v);
                case 0x084 -> writeQueue(off, QueueField.DESC_HIGH, v);
                case 0x090 -> writeQueue(off, QueueField.DRIVER_LOW, v);
                case 0x094 -> writeQueue(off, QueueField.DRIVER_HIGH, v);
                case 0x0a0 -> writeQueue(off, QueueField.DEVICE_LOW, v);
                case 0x0a4 -> writeQueue(off, QueueField.DEVICE_HIGH, v);
                case 0x044 -> writeQueue(off, QueueField.READY, v);
                case 0x064 -> core.acknowledge(v);
                case 0x070 -> {
                    core.writeStatus(v);
                    if (v == 0) deviceFeaturesSel = driverFeaturesSel = queueSel = 0;
                }
                case 0x0ac -> {} // SHMSel: every region reads as absent
                default ->
                        core.errors.count(
                                VirtioError.REGISTER_ACCESS,
                                "write of read-only or unknown register 0x"
                                        + Integer.toHexString(off));
            }
        }
    }

    private void writeQueue(int off, QueueField field, int v) {
        core.writeQueue(queueSel, field, v, "0x" + Integer.toHexString(off));
    }

    /**
     * The driver notified queue {@code queueIndex}: the ioeventfd path calls this directly, a
     * QueueNotify register write ends here too. See {@link VirtioCore#notifyQueue}.
     */
    @Override
    public void notifyQueue(int queueIndex) {
        core.notifyQueue(queueIndex);
    }

    /** Resets the device as a status-0 write would. */
    @Override
    public void reset() {
        writeRegister(0x070, 0);
    }

    /**
     * Resets the device (as a status-0 write would) and closes it: flushes and closes its backends.
     * Idempotent.
     */
    @Override
    public void close() {
        core.close();
    }

    @Override
    public String stateKey() {
        return "virtio.0x" + Long.toHexString(base);
    }

    @Override
    public Class<VirtioState> stateType() {
        return VirtioState.class;
    }

    @Override
    public VirtioState saveState() {
        synchronized (core) {
            return VirtioStates.save(this);
        }
    }

    /** Puts this freshly built transport into {@code s} (see {@link VirtioStates#restore}). */
    @Override
    public void restoreState(VirtioState s) {
        synchronized (core) {
            if (VirtioStates.restore(this, s)) core.activate(s.queues());
        }
    }

    @Override
    public String toString() {
        return "virtio-mmio("
                + core.device.name()
                + ", status 0x"
                + Integer.toHexString(status())
                + ")";
    }
}
