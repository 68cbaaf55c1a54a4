package dev.jvmm.core.virtio;

import java.util.Arrays;

/**
 * The device-specific config space of a {@link VirtioMmioTransport} (offset 0x100 on): bounds
 * checked against the device's config size, reads at any time, writes only once the driver is known
 * and has not failed. The device is called outside the register lock; only a write's status check
 * takes it.
 */
final class VirtioMmioConfig {
    private VirtioMmioConfig() {}

    /** Reads or writes {@code data} at config offset {@code off} of {@code t}'s device. */
    static void access(VirtioMmioTransport t, long off, byte[] data, boolean isWrite) {
        VirtioDevice device = t.device;
        int size = device.configSize();
        if (off < 0 || off + data.length > size) {
            t.errors.count(
                    VirtioError.CONFIG_ACCESS,
                    String.format(
                            "%d-byte config %s at 0x%x beyond config size %d",
                            data.length, isWrite ? "write" : "read", off, size));
            if (!isWrite) Arrays.fill(data, (byte) 0);
            return;
        }
        if (!isWrite) {
            device.readConfig((int) off, data);
            return;
        }
        synchronized (t) {
            if ((t.status & Virtio.STATUS_DRIVER) == 0
                    || (t.status & Virtio.STATUS_FAILED) != 0
                    || t.closed) {
                t.errors.count(
                        VirtioError.CONFIG_ACCESS,
                        "config write in status 0x" + Integer.toHexString(t.status));
                return;
            }
        }
        device.writeConfig((int) off, data);
    }
}
