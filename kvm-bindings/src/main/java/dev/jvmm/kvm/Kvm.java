package dev.jvmm.kvm;

import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.uapi.KvmUapi;

/** The {@code /dev/kvm} system handle: capabilities and VM creation. */
public final class Kvm extends FdHandle {
    public static final String DEFAULT_PATH = "/dev/kvm";

    private Kvm(int fd) {
        super(fd);
    }

    /**
     * Opens {@code /dev/kvm}; a missing or inaccessible device is a {@link
     * KvmUnavailableException}.
     */
    public static Kvm open() {
        return open(DEFAULT_PATH);
    }

    public static Kvm open(String path) {
        int fd = Libc.openRaw(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (fd < 0) throw KvmUnavailableException.fromOpen(path, -fd);
        Kvm kvm = new Kvm(fd);
        int version = kvm.apiVersion();
        if (version != KvmUapi.KVM_API_VERSION()) {
            kvm.close();
            throw new KvmUnavailableException(
                    path
                            + " speaks KVM API "
                            + version
                            + ", jvmm needs "
                            + KvmUapi.KVM_API_VERSION(),
                    KvmUnavailableException.Reason.UNSUPPORTED);
        }
        return kvm;
    }

    public int apiVersion() {
        return ioctl(KvmUapi.KVM_GET_API_VERSION(), 0L, "KVM_GET_API_VERSION");
    }

    /** KVM_CHECK_EXTENSION: 0 when absent, otherwise the capability's value (often 1). */
    public int checkExtension(int cap) {
        int r = Libc.ioctlRaw(fd(), KvmUapi.KVM_CHECK_EXTENSION(), cap);
        return Math.max(r, 0);
    }

    public int vcpuMmapSize() {
        return ioctl(KvmUapi.KVM_GET_VCPU_MMAP_SIZE(), 0L, "KVM_GET_VCPU_MMAP_SIZE");
    }

    /** Creates a VM; {@code ipaBits} 0 means KVM's default (40 bits on arm64). */
    public Vm createVm(int ipaBits) {
        int vmFd = ioctl(KvmUapi.KVM_CREATE_VM(), ipaBits & 0xff, "KVM_CREATE_VM");
        return new Vm(vmFd, vcpuMmapSize());
    }
}
