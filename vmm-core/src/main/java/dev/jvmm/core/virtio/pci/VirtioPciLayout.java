package dev.jvmm.core.virtio.pci;

import dev.jvmm.core.snapshot.GuestDefinition.PciFunctionDefinition;
import dev.jvmm.core.virtio.VirtioDevice;
import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * Where the four virtio structures sit in BAR0 (one 4 KiB page each, so a driver may map them
 * apart) and the vendor capabilities (virtio 1.x spec 4.1.4) that tell the driver so. With MSI-X
 * the vector table and the pending-bit array follow in BAR0, a page each (the PCI spec wants them
 * in pages of their own), and an MSI-X capability ends the list.
 */
public final class VirtioPciLayout {
    private VirtioPciLayout() {}

    public static final long BAR_SIZE = 0x8000;
    public static final int COMMON = 0x0000;
    public static final int ISR = 0x1000;
    public static final int DEVICE = 0x2000;
    public static final int NOTIFY = 0x3000;
    public static final int NOTIFY_END = 0x4000;
    public static final int MSIX_TABLE = 0x4000;
    public static final int MSIX_PBA = 0x5000;
    public static final int MSIX_END = 0x6000;

    /**
     * Vectors that fit the table's page: more queues than this share vectors (Linux falls back).
     */
    public static final int MSIX_MAX_VECTORS = 0x1000 / 16;

    /** sizeof(struct virtio_pci_common_cfg) of virtio 1.1. */
    public static final int COMMON_SIZE = 0x38;

    /** Each queue notifies at NOTIFY + index * this. */
    public static final int NOTIFY_MULTIPLIER = 4;

    /** PCI vendor ID of virtio devices; device IDs are 0x1040 + the virtio device type. */
    public static final int VENDOR = 0x1af4;

    public static final int DEVICE_ID_BASE = 0x1040;

    static final int CAP_VENDOR = 0x09;
    static final int CFG_COMMON = 1;
    static final int CFG_NOTIFY = 2;
    static final int CFG_ISR = 3;
    static final int CFG_DEVICE = 4;

    /** Config offset of the first capability. */
    static final int FIRST_CAPABILITY = 0x40;

    /**
     * The capability list for {@code device}, starting at config offset 0x40: common, notify, ISR
     * and (when the device has config space) device; every capability dword-aligned. With {@code
     * msix}, its 12 bytes follow at {@link #msixOffset}, and the last vendor capability points
     * there.
     */
    static byte[] capabilities(VirtioDevice device, byte[] msix) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean hasDevice = device.configSize() > 0;
        boolean more = msix != null;
        int at = FIRST_CAPABILITY;
        at = cap(out, at, CFG_COMMON, COMMON, COMMON_SIZE, 16, false);
        int notifyLength = Math.max(1, device.queueCount()) * NOTIFY_MULTIPLIER;
        at = cap(out, at, CFG_NOTIFY, NOTIFY, notifyLength, 20, false);
        // notify_off_multiplier follows the generic part of the notify capability
        putInt(out, NOTIFY_MULTIPLIER);
        at = cap(out, at, CFG_ISR, ISR, 4, 16, !hasDevice && !more);
        if (hasDevice) cap(out, at, CFG_DEVICE, DEVICE, device.configSize(), 16, !more);
        if (more) out.writeBytes(msix);
        return out.toByteArray();
    }

    /** Where the MSI-X capability of {@code device} sits: right after its vendor capabilities. */
    public static int msixOffset(VirtioDevice device) {
        return FIRST_CAPABILITY + 16 + 20 + 16 + (device.configSize() > 0 ? 16 : 0);
    }

    /** MSI-X vectors for {@code device}: one per queue and one for configuration changes. */
    public static int msixVectors(VirtioDevice device) {
        return Math.min(device.queueCount() + 1, MSIX_MAX_VECTORS);
    }

    private static int cap(
            ByteArrayOutputStream out,
            int at,
            int type,
            int offset,
            int length,
            int capLength,
            boolean last) {
        int next = last ? 0 : at + capLength;
        out.write(CAP_VENDOR);
        out.write(next);
        out.write(capLength);
        out.write(type);
        out.write(0); // BAR0
        out.write(0); // id
        out.write(0);
        out.write(0); // padding
        putInt(out, offset);
        putInt(out, length);
        return next;
    }

    private static void putInt(ByteArrayOutputStream out, int v) {
        for (int i = 0; i < 4; i++) out.write(v >>> (8 * i));
    }

    /** Device {@code n}'s function on bus 0 as lspci shows it, e.g. {@code 00:02.0}. */
    public static String address(int n) {
        return String.format("00:%02x.0", n);
    }

    /**
     * What device {@code n} of virtio type {@code type} is built as: the layout a snapshot pins and
     * a restore checks before it builds anything.
     */
    public static PciFunctionDefinition definition(int n, int type) {
        return new PciFunctionDefinition(
                address(n), VENDOR, DEVICE_ID_BASE + type, List.of(BAR_SIZE));
    }

    /** PCI class code (base, sub, prog-if) for a virtio device type, as kvmtool reports them. */
    static int classCode(int type) {
        return switch (type) {
            case 1 -> 0x020000; // network controller, Ethernet
            case 2 -> 0x018000; // mass storage, other
            case 3 -> 0x078000; // simple communication, other
            default -> 0xff0000; // unassigned class
        };
    }
}
