package dev.jvmm.kvm;

import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.uapi.KvmUapi;
import dev.jvmm.kvm.uapi.kvm_device_attr;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** KVM_{HAS,SET,GET}_DEVICE_ATTR on any fd that takes them: VM, vCPU or device. */
final class DeviceAttrs {
    private DeviceAttrs() {}

    private static MemorySegment attr(Arena a, int group, long attribute, MemorySegment value) {
        MemorySegment s = kvm_device_attr.allocate(a);
        kvm_device_attr.group(s, group);
        kvm_device_attr.attr(s, attribute);
        kvm_device_attr.addr(s, value == null ? 0 : value.address());
        return s;
    }

    static boolean has(int fd, int group, long attribute) {
        try (Arena a = Arena.ofConfined()) {
            return Libc.ioctlRaw(fd, KvmUapi.KVM_HAS_DEVICE_ATTR(), attr(a, group, attribute, null))
                    == 0;
        }
    }

    /** Sets an attribute whose value is a u64 in memory ({@code addr} points at it). */
    static void setU64(int fd, int group, long attribute, long value, String op) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_LONG);
            v.set(ValueLayout.JAVA_LONG, 0, value);
            Libc.ioctl(fd, KvmUapi.KVM_SET_DEVICE_ATTR(), attr(a, group, attribute, v), op);
        }
    }

    /** Sets an attribute whose value is a C {@code int} in memory (e.g. the vCPU PMU's IRQ). */
    static void setI32(int fd, int group, long attribute, int value, String op) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            v.set(ValueLayout.JAVA_INT, 0, value);
            Libc.ioctl(fd, KvmUapi.KVM_SET_DEVICE_ATTR(), attr(a, group, attribute, v), op);
        }
    }

    /** Sets an attribute that takes no value, or a struct the caller provides (may be null). */
    static void set(int fd, int group, long attribute, MemorySegment value, String op) {
        try (Arena a = Arena.ofConfined()) {
            Libc.ioctl(fd, KvmUapi.KVM_SET_DEVICE_ATTR(), attr(a, group, attribute, value), op);
        }
    }

    static long getU64(int fd, int group, long attribute, String op) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_LONG);
            Libc.ioctl(fd, KvmUapi.KVM_GET_DEVICE_ATTR(), attr(a, group, attribute, v), op);
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** Reads an attribute whose value is a u32 (the vGIC's distributor and redistributor words). */
    static int getU32(int fd, int group, long attribute, String op) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            Libc.ioctl(fd, KvmUapi.KVM_GET_DEVICE_ATTR(), attr(a, group, attribute, v), op);
            return v.get(ValueLayout.JAVA_INT, 0);
        }
    }
}
