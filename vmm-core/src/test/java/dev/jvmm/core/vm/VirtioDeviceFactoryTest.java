package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jvmm.core.device.DeviceException;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioDevice;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which devices a config becomes, in slot order, and how a backend that cannot be opened is
 * reported.
 */
class VirtioDeviceFactoryTest {
    @TempDir Path dir;

    private Path file(String name) throws IOException {
        return Files.write(dir.resolve(name), new byte[8192]);
    }

    @Test
    void devicesComeInSlotOrderDisksThenRngThenConsole() throws IOException {
        VirtioConfig c =
                new VirtioConfig(
                        List.of(
                                new DiskConfig(file("a.img"), false),
                                new DiskConfig(file("b.img"), true)),
                        List.of(),
                        true,
                        true);
        List<VirtioDevice> devices = VirtioDeviceFactory.open(c, OutputStream.nullOutputStream());
        try {
            assertEquals(
                    List.of(Virtio.ID_BLOCK, Virtio.ID_BLOCK, Virtio.ID_RNG, Virtio.ID_CONSOLE),
                    devices.stream().map(VirtioDevice::deviceType).toList());
        } finally {
            devices.forEach(VirtioDevice::close);
        }
        assertEquals(
                List.of(),
                VirtioDeviceFactory.open(VirtioConfig.NONE, OutputStream.nullOutputStream()));
    }

    @Test
    void aLockedImageIsOneLineNamingItAndClosesWhatWasOpened() throws IOException {
        Path a = file("a.img"), busy = file("busy.img");
        try (FileChannel ch = FileChannel.open(busy, StandardOpenOption.WRITE);
                FileLock held = ch.lock()) {
            assertNotNull(held);
            VirtioConfig c =
                    new VirtioConfig(
                            List.of(new DiskConfig(a, false), new DiskConfig(busy, false)),
                            List.of(),
                            false,
                            false);
            DeviceException e =
                    assertThrows(
                            DeviceException.class,
                            () -> VirtioDeviceFactory.open(c, OutputStream.nullOutputStream()));
            assertEquals(
                    "disk " + busy + ": disk image is in use by another disk or process",
                    e.getMessage());
        }
        // the first disk was closed again, so its image is free
        try (FileChannel ch = FileChannel.open(a, StandardOpenOption.WRITE);
                FileLock free = ch.tryLock()) {
            assertNotNull(
                    free, "a.img still locked: the disk opened before the failure was not closed");
        }
    }

    @Test
    void serialIsThePrintableFileNameCutTo20Bytes() throws IOException {
        assertEquals("rw.img", VirtioDeviceFactory.serial(new DiskConfig(file("rw.img"), false)));
        assertEquals(
                "a-very-long-image-na",
                VirtioDeviceFactory.serial(
                        new DiskConfig(file("a-very-long-image-name.qcow"), false)));
        assertEquals(
                "with_space_.img",
                VirtioDeviceFactory.serial(new DiskConfig(file("with space\u00e9.img"), false)));
    }
}
