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
}
