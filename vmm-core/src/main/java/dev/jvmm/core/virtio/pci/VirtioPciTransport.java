package dev.jvmm.core.virtio.pci;

import static dev.jvmm.core.virtio.pci.VirtioPciLayout.COMMON;
import static dev.jvmm.core.virtio.pci.VirtioPciLayout.COMMON_SIZE;
import static dev.jvmm.core.virtio.pci.VirtioPciLayout.DEVICE;
import static dev.jvmm.core.virtio.pci.VirtioPciLayout.ISR;
import static dev.jvmm.core.virtio.pci.VirtioPciLayout.MSIX_END;
import static dev.jvmm.core.virtio.pci.VirtioPciLayout.MSIX_TABLE;
import static dev.jvmm.core.virtio.pci.VirtioPciLayout.NOTIFY;
import static dev.jvmm.core.virtio.pci.VirtioPciLayout.NOTIFY_END;
import static dev.jvmm.core.virtio.pci.VirtioPciLayout.NOTIFY_MULTIPLIER;

import dev.jvmm.core.device.MmioDevice;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.pci.MsixTable;
import dev.jvmm.core.pci.PciHeader;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.Snapshottable;
import dev.jvmm.core.virtio.QueueField;
import dev.jvmm.core.virtio.VirtioCore;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioError;
import dev.jvmm.core.virtio.VirtioInterrupt;
import dev.jvmm.core.virtio.VirtioState;
import dev.jvmm.core.virtio.VirtioStates;
import dev.jvmm.core.virtio.VirtioTransport;
import java.util.Arrays;

/**
 * virtio-pci modern (virtio 1.x spec 4.1) for one {@link VirtioDevice}: a PCI function ({@link
 * #header}) whose BAR0 ({@link #bar}) holds the common configuration, the ISR, the device
 * configuration and one notification address per queue, decoded onto a {@link VirtioCore}.
 * Interrupts are MSI-X when the function offers it (an ITS to route it to) and the guest enabled
 * it: one vector per queue and one for configuration changes, in BAR0 after the virtio structures
 * ({@link VirtioPciMsix}, {@link MsixTable}). Otherwise legacy INTx: the core's interrupt-status
 * bits are the ISR, which a read clears. Each common-configuration field takes only its own width
 * (the 64-bit ring addresses also as two 32-bit halves, as Linux writes them); anything else reads
 * 0, writes nothing, and is counted.
 */
public final class VirtioPciTransport implements VirtioTransport, Snapshottable<VirtioPciState> {
    private final VirtioCore core;
    private final PciHeader header;
    private final int deviceNumber;
    private final VirtioPciMsix msix;
    private final Bar bar = new Bar();

    // Guarded by core.
    private int deviceFeatureSel;
    private int driverFeatureSel;
    private int queueSel;

    /** Device 0 on the bus, INTx only (see the last constructor). */
    public VirtioPciTransport(VirtioDevice device, GuestMemory mem, VirtioInterrupt irq) {
        this(device, 0, mem, irq, null);
    }

    /** A function with INTx only (no ITS to route MSI-X to). */
    public VirtioPciTransport(
            VirtioDevice device, int deviceNumber, GuestMemory mem, VirtioInterrupt irq) {
        this(device, deviceNumber, mem, irq, null);
    }

    /**
     * @param deviceNumber the function's device number on bus 0 (names its snapshot part)
     * @param irq the INTx line's edge (an irqfd); not raised while the guest has INTx disabled or
     *     MSI-X enabled
     * @param msix where MSI-X vectors are routed and delivered; null offers no MSI-X capability
     */
    public VirtioPciTransport(
            VirtioDevice device,
            int deviceNumber,
            GuestMemory mem,
            VirtioInterrupt irq,
            MsixTable.Sink msix) {
        this.deviceNumber = deviceNumber;
        this.msix = new VirtioPciMsix(device, msix);
        PciHeader[] h = new PciHeader[1];
        VirtioInterrupt routed =
                new VirtioInterrupt() {
                    @Override
                    public void trigger() {
                        trigger(CONFIG);
                    }

                    @Override
                    public void trigger(int source) {
                        if (!VirtioPciTransport.this.msix.trigger(source) && !h[0].intxDisabled())
                            irq.trigger();
                    }
                };
        this.core = new VirtioCore(device, mem, routed);
        int type = device.deviceType();
        this.header =
                new PciHeader(
                        VirtioPciLayout.VENDOR | (VirtioPciLayout.DEVICE_ID_BASE + type) << 16,
                        VirtioPciLayout.classCode(type) << 8 | 1, // revision 1: modern only
                        VirtioPciLayout.VENDOR | type << 16,
                        VirtioPciLayout.BAR_SIZE,
                        VirtioPciLayout.capabilities(device, this.msix.capabilityBytes()));
        this.msix.attach(header, device);
        h[0] = header;
    }

    /** The function's MSI-X table, or null when it offers none. */
    public MsixTable msix() {
        return msix.table();
    }

    @Override
    public VirtioCore core() {
        return core;
    }

    /** The function's config space, for the host bridge. */
    public PciHeader header() {
        return header;
    }

    /** BAR0's registers, to be mapped wherever the guest puts the BAR. */
    public MmioDevice bar() {
        return bar;
    }

    @Override
    public void notifyQueue(int queue) {
        core.notifyQueue(queue);
    }

    /** Resets the device and the function (decoding off, BAR0 0, MSI-X off), as after power-on. */
    @Override
    public void reset() {
        writeCommon(0x14, 1, 0);
        header.reset();
        msix.resetFunction();
    }

    @Override
    public void close() {
        core.close();
    }

    /** The function's address as lspci shows it on bus 0, e.g. {@code 00:02.0}. */
    public String address() {
        return VirtioPciLayout.address(deviceNumber);
    }

    @Override
    public String stateKey() {
        return "virtio-pci." + address();
    }

    @Override
    public Class<VirtioPciState> stateType() {
        return VirtioPciState.class;
    }

    @Override
    public VirtioPciState saveState() {
        synchronized (core) {
            return new VirtioPciState(
                    header.saveState(),
                    VirtioStates.save(core, deviceFeatureSel, driverFeatureSel, queueSel),
                    msix.table() == null ? null : msix.saveState());
        }
    }

    /**
     * Puts this freshly built transport into {@code s}: everything is checked first; then the
     * virtio core, then the function's config space — which maps BAR0 at the restored address with
     * the queues' notification ioeventfds there (the INTx irqfd was bound at build) — and last the
     * device's activation when the driver had it running. All before any vCPU runs.
     */
    @Override
    public void restoreState(VirtioPciState s) {
        String key = stateKey();
        if (s.function() == null || s.virtio() == null)
            throw SnapshotException.invalid(key, "function and virtio are required");
        String problem = header.stateProblem(s.function());
        if (problem != null) throw SnapshotException.invalid(key, "function: " + problem);
        String msixProblem = msix.stateProblem(s.msix());
        if (msixProblem != null) throw SnapshotException.invalid(key, msixProblem);
        VirtioState v = s.virtio();
        if ((v.queueSel() & ~0xffff) != 0)
            throw SnapshotException.invalid(key, "queue_select " + v.queueSel() + " is not a u16");
        boolean activate;
        synchronized (core) {
            activate = VirtioStates.restore(core, v, key);
            deviceFeatureSel = v.deviceFeaturesSel();
            driverFeatureSel = v.driverFeaturesSel();
            queueSel = v.queueSel();
        }
        header.restoreState(s.function());
        msix.restoreState(s.msix()); // routes its vectors (KVM_SET_GSI_ROUTING, irqfds)
        if (activate) VirtioStates.activate(core, v);
    }

    @Override
    public String toString() {
        return "virtio-pci("
                + core.device().name()
                + ", status 0x"
                + Integer.toHexString(core.status())
                + ")";
    }

    private final class Bar implements MmioDevice {
        @Override
        public void read(long offset, byte[] data) {
            int v = 0;
            if (offset >= DEVICE && offset < NOTIFY) {
                core.config(offset - DEVICE, data, false);
                return;
            } else if (offset >= COMMON && offset < COMMON + COMMON_SIZE) {
                if (data.length == 8 && (offset == 0x20 || offset == 0x28 || offset == 0x30)) {
                    long a = core.queueAddress(queueSel(), (int) (offset - 0x20) / 8);
                    for (int i = 0; i < 8; i++) data[i] = (byte) (a >>> (8 * i));
                    return;
                }
                v = readCommon((int) offset, data.length);
            } else if (offset == ISR && data.length == 1) {
                v = core.takeInterruptStatus();
            } else if (offset >= MSIX_TABLE && offset < MSIX_END) {
                if (!msix.barAccess(offset, data, false)) bad("read", offset, data.length);
                return;
            } else {
                bad("read", offset, data.length);
            }
            Arrays.fill(data, (byte) 0);
            for (int i = 0; i < data.length && i < 4; i++) data[i] = (byte) (v >>> (8 * i));
        }

        @Override
        public void write(long offset, byte[] data) {
            if (offset >= DEVICE && offset < NOTIFY) {
                core.config(offset - DEVICE, data, true);
                return;
            }
            long v = 0;
            for (int i = 0; i < data.length; i++) v |= (data[i] & 0xffL) << (8 * i);
            if (offset >= MSIX_TABLE && offset < MSIX_END) {
                if (!msix.barAccess(offset, data, true)) bad("write", offset, data.length);
                return;
            }
            if (offset >= NOTIFY && offset < NOTIFY_END) {
                long rel = offset - NOTIFY;
                if ((data.length == 2 || data.length == 4) && rel % NOTIFY_MULTIPLIER == 0) {
                    core.notifyQueue((int) Math.min(rel / NOTIFY_MULTIPLIER, Integer.MAX_VALUE));
                } else {
                    bad("write", offset, data.length);
                }
                return;
            }
            if (offset >= COMMON && offset < COMMON + COMMON_SIZE) {
                if (data.length == 8 && (offset == 0x20 || offset == 0x28 || offset == 0x30)) {
                    writeCommon((int) offset, 4, (int) v);
                    writeCommon((int) offset + 4, 4, (int) (v >>> 32));
                } else {
                    writeCommon((int) offset, data.length, (int) v);
                }
                return;
            }
            bad("write", offset, data.length);
        }
    }

    private int queueSel() {
        synchronized (core) {
            return queueSel;
        }
    }

    private int readCommon(int off, int size) {
        synchronized (core) {
            int max = core.device().maxQueueSize();
            boolean queue = queueSel < core.queueCount();
            int width = width(off);
            if (!(width == size && size != 8) && !(width == 8 && size == 4)) {
                bad("read", off, size);
                return 0;
            }
            return switch (off) {
                case 0x00 -> deviceFeatureSel;
                case 0x04 -> core.deviceFeatures(deviceFeatureSel);
                case 0x08 -> driverFeatureSel;
                case 0x0c -> core.driverFeatures(driverFeatureSel);
                case 0x10 -> msix.vector(VirtioInterrupt.CONFIG);
                case 0x1a -> queue ? msix.vector(queueSel) : VirtioPciMsix.NO_VECTOR;
                case 0x12 -> core.queueCount();
                case 0x14 -> core.status();
                case 0x15 -> core.configGeneration() & 0xff;
                case 0x16 -> queueSel;
                // the current size; the maximum until the driver picks one (spec 4.1.4.3)
                case 0x18 ->
                        !queue ? 0 : core.queueSize(queueSel) != 0 ? core.queueSize(queueSel) : max;
                case 0x1c -> core.queueReady(queueSel) ? 1 : 0;
                case 0x1e -> queue ? queueSel : 0;
                case 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34 -> {
                    long a = core.queueAddress(queueSel, (off - 0x20) / 8);
                    yield (off & 4) == 0 ? (int) a : (int) (a >>> 32);
                }
                default -> {
                    bad("read", off, size);
                    yield 0;
                }
            };
        }
    }

    private void writeCommon(int off, int size, int v) {
        synchronized (core) {
            int width = width(off);
            if (!(width == size && size != 8) && !(width == 8 && size == 4)) {
                bad("write", off, size);
                return;
            }
            switch (off) {
                case 0x00 -> deviceFeatureSel = v;
                case 0x08 -> driverFeatureSel = v;
                case 0x0c -> core.writeDriverFeatures(driverFeatureSel, v);
                case 0x10 -> msix.setVector(VirtioInterrupt.CONFIG, v & 0xffff);
                case 0x1a -> queueVector(v & 0xffff);
                case 0x14 -> {
                    core.writeStatus(v & 0xff);
                    if ((v & 0xff) == 0) {
                        deviceFeatureSel = driverFeatureSel = queueSel = 0;
                        msix.reset();
                    }
                }
                case 0x16 -> {
                    if (v >= core.queueCount()) {
                        core.errorCounter()
                                .count(
                                        VirtioError.QUEUE_INDEX,
                                        "queue_select " + v + " >= " + core.queueCount());
                    }
                    queueSel = v; // later queue accesses see "no such queue"
                }
                case 0x18 -> core.writeQueue(queueSel, QueueField.SIZE, v, "queue_size");
                case 0x1c -> core.writeQueue(queueSel, QueueField.READY, v, "queue_enable");
                case 0x20 -> queue(QueueField.DESC_LOW, v, "queue_desc");
                case 0x24 -> queue(QueueField.DESC_HIGH, v, "queue_desc");
                case 0x28 -> queue(QueueField.DRIVER_LOW, v, "queue_driver");
                case 0x2c -> queue(QueueField.DRIVER_HIGH, v, "queue_driver");
                case 0x30 -> queue(QueueField.DEVICE_LOW, v, "queue_device");
                case 0x34 -> queue(QueueField.DEVICE_HIGH, v, "queue_device");
                default -> bad("write", off, size); // read-only fields
            }
        }
    }

    private void queueVector(int v) {
        if (queueSel < 0 || queueSel >= core.queueCount()) {
            core.errorCounter()
                    .count(VirtioError.QUEUE_INDEX, "queue_msix_vector for queue " + queueSel);
            return;
        }
        msix.setVector(queueSel, v);
    }

    private void queue(dev.jvmm.core.virtio.QueueField f, int v, String name) {
        core.writeQueue(queueSel, f, v, name);
    }

    /** The width of the common-configuration field at {@code off}; 0 inside a field. */
    private static int width(int off) {
        return switch (off) {
            case 0x00, 0x04, 0x08, 0x0c -> 4;
            case 0x10, 0x12, 0x16, 0x18, 0x1a, 0x1c, 0x1e -> 2;
            case 0x14, 0x15 -> 1;
            case 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34 -> 8;
            default -> 0;
        };
    }

    private void bad(String what, long offset, int size) {
        core.errorCounter()
                .count(
                        VirtioError.REGISTER_ACCESS,
                        size + "-byte " + what + " at BAR offset 0x" + Long.toHexString(offset));
    }
}
