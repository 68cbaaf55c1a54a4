package dev.jvmm.core.virtio;

import java.util.Arrays;

/**
 * The device-specific config space as any transport exposes it: bounds checked against the device's
 * config size, reads at any time, writes only once the driver is known and has not failed. The
 * device is called outside the core's lock; only a write's status check takes it.
 */
final class VirtioConfigAccess {
    private VirtioConfigAccess() {}

    /** Reads or writes {@code data} at config offset {@code off} of {@code c}'s device. */
    static void access(VirtioCore c, long off, byte[] data, boolean isWrite) {
        VirtioDevice device = c.device;
        int size = device.configSize();
        if (off < 0 || off + data.length > size) {
            c.errors.count(
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
        synchronized (c) {
            if ((c.status & Virtio.STATUS_DRIVER) == 0
                    || (c.status & Virtio.STATUS_FAILED) != 0
                    || c.closed) {
                c.errors.count(
                        VirtioError.CONFIG_ACCESS,
                        "config write in status 0x" + Integer.toHexString(c.status));
                return;
            }
        }
        device.writeConfig((int) off, data);
    }
}
