package dev.jvmm.kvm;

import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One {@code kvm_device_attr} and the u64 its {@code addr} points at, allocated once per device fd
 * and reused by every {@code KVM_{HAS,GET,SET}_DEVICE_ATTR} on it: a vGIC's restore makes ~1,000 of
 * those calls, and a native allocation, an arena and an error message built per call (as {@link
 * DeviceAttrs} does) were about half their cost in the lab, where that code still runs interpreted.
 * Fields are written at their fixed offsets (the generated accessors' var handles are spun classes
 * the AOT cache cannot hold; {@code DeviceAttrSlotTest} checks the offsets against the generated
 * layout). Each call returns the ioctl's result or {@code -errno}; the caller names a failure.
 * Callers hold the slot's monitor ({@link Device} does).
 */
final class DeviceAttrSlot {
    /** {@code struct kvm_device_attr { __u32 flags; __u32 group; __u64 attr; __u64 addr; }}. */
    static final long FLAGS = 0, GROUP = 4, ATTR = 8, ADDR = 16, SIZE = 24;

    private final MemorySegment attr;
    private final MemorySegment value;

    DeviceAttrSlot() {
        Arena auto = Arena.ofAuto();
        attr = auto.allocate(SIZE, 8);
        value = auto.allocate(ValueLayout.JAVA_LONG);
    }

    private MemorySegment with(int group, long attribute, MemorySegment addr) {
        attr.set(ValueLayout.JAVA_INT, FLAGS, 0);
        attr.set(ValueLayout.JAVA_INT, GROUP, group);
        attr.set(ValueLayout.JAVA_LONG, ATTR, attribute);
        attr.set(ValueLayout.JAVA_LONG, ADDR, addr == null ? 0 : addr.address());
        return attr;
    }

    int has(int fd, int group, long attribute) {
        return Libc.ioctlRaw(fd, KvmUapi.KVM_HAS_DEVICE_ATTR(), with(group, attribute, null));
    }

    int setU32(int fd, int group, long attribute, int v) {
        value.set(ValueLayout.JAVA_LONG, 0, 0);
        value.set(ValueLayout.JAVA_INT, 0, v);
        return Libc.ioctlRaw(fd, KvmUapi.KVM_SET_DEVICE_ATTR(), with(group, attribute, value));
    }

    int setU64(int fd, int group, long attribute, long v) {
        value.set(ValueLayout.JAVA_LONG, 0, v);
        return Libc.ioctlRaw(fd, KvmUapi.KVM_SET_DEVICE_ATTR(), with(group, attribute, value));
    }

    /** KVM_GET_DEVICE_ATTR into the slot's value: read it with {@link #u32} or {@link #u64}. */
    int get(int fd, int group, long attribute) {
        value.set(ValueLayout.JAVA_LONG, 0, 0);
        return Libc.ioctlRaw(fd, KvmUapi.KVM_GET_DEVICE_ATTR(), with(group, attribute, value));
    }

    int u32() {
        return value.get(ValueLayout.JAVA_INT, 0);
    }

    long u64() {
        return value.get(ValueLayout.JAVA_LONG, 0);
    }

    /** The struct as the kernel would read it (tests). */
    MemorySegment attr() {
        return attr;
    }
}
