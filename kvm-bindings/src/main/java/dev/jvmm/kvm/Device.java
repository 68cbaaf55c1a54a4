package dev.jvmm.kvm;

import java.lang.foreign.MemorySegment;

/** An in-kernel device fd from KVM_CREATE_DEVICE (e.g. the vGICv3). */
public final class Device extends FdHandle {
    private final String name;

    /** The struct every attribute call on this fd reuses; its monitor orders them. */
    private final DeviceAttrSlot slot = new DeviceAttrSlot();

    Device(int fd, String name) {
        super(fd);
        this.name = name;
    }

    public String name() {
        return name;
    }

    public boolean hasAttribute(int group, long attribute) {
        synchronized (slot) {
            return slot.has(fd(), group, attribute) == 0;
        }
    }

    public void setAttributeU64(int group, long attribute, long value, String what) {
        synchronized (slot) {
            check(slot.setU64(fd(), group, attribute, value), "KVM_SET_DEVICE_ATTR", what);
        }
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
        synchronized (slot) {
            check(slot.get(fd(), group, attribute), "KVM_GET_DEVICE_ATTR", what);
            return slot.u64();
        }
    }

    /**
     * Sets a 32-bit attribute: the vGIC's distributor, redistributor and LEVEL_INFO words (KVM
     * reads a u32 there; 64-bit registers such as GICD_IROUTER go as two words).
     */
    public void setAttributeU32(int group, long attribute, int value, String what) {
        synchronized (slot) {
            check(slot.setU32(fd(), group, attribute, value), "KVM_SET_DEVICE_ATTR", what);
        }
    }

    /** Reads a 32-bit attribute (see {@link #setAttributeU32}). */
    public int getAttributeU32(int group, long attribute, String what) {
        synchronized (slot) {
            check(slot.get(fd(), group, attribute), "KVM_GET_DEVICE_ATTR", what);
            return slot.u32();
        }
    }

    /** A failed call's exception, its message built only then. */
    private void check(int result, String ioctl, String what) {
        if (result < 0) throw new KvmException(ioctl + "(" + name + " " + what + ")", -result);
    }
}
