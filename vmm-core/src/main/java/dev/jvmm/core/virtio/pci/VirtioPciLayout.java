package dev.jvmm.core.virtio.pci;

import dev.jvmm.core.snapshot.GuestDefinition.PciFunctionDefinition;
import dev.jvmm.core.virtio.VirtioDevice;
import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * Where the four virtio structures sit in BAR0 (one 4 KiB page each, so a driver may map them
 * apart) and the vendor capabilities (virtio 1.x spec 4.1.4) that tell the driver so.
 */
public final class VirtioPciLayout {
    private VirtioPciLayout() {}

    public static final long BAR_SIZE = 0x4000;
    public static final int COMMON = 0x0000;
    public static final int ISR = 0x1000;
    public static final int DEVICE = 0x2000;
    public static final int NOTIFY = 0x3000;

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

    /**
     * The capability list for {@code device}, starting at config offset 0x40: common, notify, ISR
     * and (when the device has config space) device; every capability dword-aligned.
     */
    static byte[] capabilities(VirtioDevice device) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean hasDevice = device.configSize() > 0;
        int at = 0x40;
        at = cap(out, at, CFG_COMMON, COMMON, COMMON_SIZE, 16, false);
        int notifyLength = Math.max(1, device.queueCount()) * NOTIFY_MULTIPLIER;
        at = cap(out, at, CFG_NOTIFY, NOTIFY, notifyLength, 20, false);
        // notify_off_multiplier follows the generic part of the notify capability
        putInt(out, NOTIFY_MULTIPLIER);
        at = cap(out, at, CFG_ISR, ISR, 4, 16, !hasDevice);
        if (hasDevice) cap(out, at, CFG_DEVICE, DEVICE, device.configSize(), 16, true);
        return out.toByteArray();
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
