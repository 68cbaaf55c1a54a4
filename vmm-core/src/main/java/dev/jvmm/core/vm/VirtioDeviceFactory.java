package dev.jvmm.core.vm;

import dev.jvmm.core.device.DeviceException;
import dev.jvmm.core.net.TapNetBackend;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.blk.FileBlockBackend;
import dev.jvmm.core.virtio.blk.VirtioBlkDevice;
import dev.jvmm.core.virtio.console.VirtioConsoleDevice;
import dev.jvmm.core.virtio.net.VirtioNetDevice;
import dev.jvmm.core.virtio.rng.VirtioRngDevice;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens the host side of each configured virtio device (image files, taps, the entropy source) and
 * builds the devices, in slot order: disks, NICs, rng, console. Runs before any KVM fd exists, so
 * an image or tap that cannot be opened ends the run early with one line naming it.
 */
final class VirtioDeviceFactory {
    static final String ENTROPY_SOURCE = "/dev/urandom";

    private VirtioDeviceFactory() {}

    /**
     * @param console where a virtio console's output goes (the console stream, panic-watched)
     * @throws DeviceException naming the file or tap; devices opened before it are closed
     */
    static List<VirtioDevice> open(VirtioConfig config, OutputStream console) {
        List<VirtioDevice> out = new ArrayList<>();
        try {
            for (DiskConfig d : config.disks()) out.add(disk(d));
            for (NetConfig n : config.nets())
                out.add(new VirtioNetDevice(TapNetBackend.open(n.tap()), n.mac().bytes()));
            if (config.rng()) out.add(rng());
            if (config.consoleOnVirtio()) out.add(new VirtioConsoleDevice(console));
            return out;
        } catch (RuntimeException e) {
            for (VirtioDevice d : out) {
                try {
                    d.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private static VirtioDevice disk(DiskConfig d) {
        try {
            return new VirtioBlkDevice(FileBlockBackend.open(d.path(), d.readOnly()), serial(d));
        } catch (IOException e) {
            String why = String.valueOf(e.getMessage());
            if (why.startsWith(d.path() + ": "))
                why = why.substring(d.path().toString().length() + 2); // named once
            throw new DeviceException("disk " + d.path() + ": " + why, e);
        }
    }

    /** The kernel's non-blocking pool, as QEMU's and crosvm's virtio-rng default to. */
    private static VirtioDevice rng() {
        try {
            return new VirtioRngDevice(new FileInputStream(ENTROPY_SOURCE));
        } catch (IOException e) {
            throw new DeviceException(
                    "rng: cannot open " + ENTROPY_SOURCE + ": " + e.getMessage(), e);
        }
    }

    /**
     * GET_ID (/sys/block/vdX/serial): the image's file name, as much of it as fits in 20 ASCII
     * bytes.
     */
    static String serial(DiskConfig d) {
        String name = d.path().getFileName().toString();
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < name.length() && s.length() < VirtioBlkDevice.ID_BYTES; i++) {
            char c = name.charAt(i);
            s.append(c > ' ' && c < 0x7f ? c : '_');
        }
        return new String(
                s.toString().getBytes(StandardCharsets.US_ASCII), StandardCharsets.US_ASCII);
    }
}
