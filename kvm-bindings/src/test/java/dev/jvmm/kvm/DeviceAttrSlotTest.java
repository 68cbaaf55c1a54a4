package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.uapi.kvm_device_attr;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The reused {@code kvm_device_attr}'s fixed offsets agree with the generated (compiler-checked)
 * layout, and a failed call still names the device, the register and the errno.
 */
class DeviceAttrSlotTest {
    @Test
    void offsetsAreTheGeneratedLayouts() {
        assertEquals(kvm_device_attr.flags$offset(), DeviceAttrSlot.FLAGS);
        assertEquals(kvm_device_attr.group$offset(), DeviceAttrSlot.GROUP);
        assertEquals(kvm_device_attr.attr$offset(), DeviceAttrSlot.ATTR);
        assertEquals(kvm_device_attr.addr$offset(), DeviceAttrSlot.ADDR);
        assertEquals(kvm_device_attr.layout().byteSize(), DeviceAttrSlot.SIZE);
    }

    @Test
    void aCallFillsTheStructAsTheGeneratedAccessorsReadIt() throws IOException {
        DeviceAttrSlot slot = new DeviceAttrSlot();
        int fd = openDevNull();
        try {
            // /dev/null takes no ioctl: the call fails, and the struct shows what was asked
            assertTrue(slot.setU64(fd, 5, 0x0123_4567_89ab_cdefL, 42L) < 0);
            assertEquals(0, kvm_device_attr.flags(slot.attr()));
            assertEquals(5, kvm_device_attr.group(slot.attr()));
            assertEquals(0x0123_4567_89ab_cdefL, kvm_device_attr.attr(slot.attr()));
            assertTrue(kvm_device_attr.addr(slot.attr()) != 0, "addr points at the value");
            assertEquals(42L, slot.u64());
            assertTrue(slot.has(fd, 6, 7) < 0);
            assertEquals(6, kvm_device_attr.group(slot.attr()));
            assertEquals(0, kvm_device_attr.addr(slot.attr()), "HAS takes no value");
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void aFailureNamesTheDeviceTheRegisterAndTheErrno() throws IOException {
        int fd = openDevNull();
        try (Device d = new Device(fd, "vgic-v3")) {
            KvmException e =
                    assertThrows(
                            KvmException.class, () -> d.setAttributeU32(1, 0x100, 7, "GICD_CTLR"));
            assertTrue(
                    e.getMessage().startsWith("KVM_SET_DEVICE_ATTR(vgic-v3 GICD_CTLR)"),
                    e.getMessage());
            assertEquals(Errno.ENOTTY, e.errno());
        }
    }

    private static int openDevNull() throws IOException {
        int fd = Libc.openRaw(Path.of("/dev/null").toString(), Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd < 0) throw new IOException("open /dev/null: " + -fd);
        return fd;
    }
}
