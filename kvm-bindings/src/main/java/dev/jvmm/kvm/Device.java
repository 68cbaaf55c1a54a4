package dev.jvmm.kvm;

import java.lang.foreign.MemorySegment;

/** An in-kernel device fd from KVM_CREATE_DEVICE (e.g. the vGICv3). */
public final class Device extends FdHandle {
    private final String name;

    Device(int fd, String name) {
        super(fd);
        this.name = name;
    }

    public String name() {
        return name;
    }

    public boolean hasAttribute(int group, long attribute) {
        return DeviceAttrs.has(fd(), group, attribute);
    }

    public void setAttributeU64(int group, long attribute, long value, String what) {
        DeviceAttrs.setU64(
                fd(), group, attribute, value, "KVM_SET_DEVICE_ATTR(" + name + " " + what + ")");
    }

    /** Sets an attribute with no value (e.g. the vGIC's CTRL_INIT). */
    public void setAttribute(int group, long attribute, String what) {
        DeviceAttrs.set(
                fd(),
                group,
                attribute,
                (MemorySegment) null,
                "KVM_SET_DEVICE_ATTR(" + name + " " + what + ")");
    }

    public long getAttributeU64(int group, long attribute, String what) {
        return DeviceAttrs.getU64(
                fd(), group, attribute, "KVM_GET_DEVICE_ATTR(" + name + " " + what + ")");
    }

    /**
     * Sets a 32-bit attribute: the vGIC's distributor, redistributor and LEVEL_INFO words (KVM
     * reads a u32 there; 64-bit registers such as GICD_IROUTER go as two words).
     */
    public void setAttributeU32(int group, long attribute, int value, String what) {
        DeviceAttrs.setI32(
                fd(), group, attribute, value, "KVM_SET_DEVICE_ATTR(" + name + " " + what + ")");
    }

    /** Reads a 32-bit attribute (see {@link #setAttributeU32}). */
    public int getAttributeU32(int group, long attribute, String what) {
        return DeviceAttrs.getU32(
                fd(), group, attribute, "KVM_GET_DEVICE_ATTR(" + name + " " + what + ")");
    }
}
