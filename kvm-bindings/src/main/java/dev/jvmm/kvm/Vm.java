package dev.jvmm.kvm;

import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.uapi.KvmUapi;
import dev.jvmm.kvm.uapi.kvm_create_device;
import dev.jvmm.kvm.uapi.kvm_enable_cap;
import dev.jvmm.kvm.uapi.kvm_ioeventfd;
import dev.jvmm.kvm.uapi.kvm_irq_level;
import dev.jvmm.kvm.uapi.kvm_irqfd;
import dev.jvmm.kvm.uapi.kvm_msi;
import dev.jvmm.kvm.uapi.kvm_smccc_filter;
import dev.jvmm.kvm.uapi.kvm_userspace_memory_region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A VM fd: memslots, vCPUs, in-kernel devices, interrupts, VM attributes (SMCCC filter). */
public final class Vm extends FdHandle {
    private final int vcpuMmapSize;

    Vm(int fd, int vcpuMmapSize) {
        super(fd);
        this.vcpuMmapSize = vcpuMmapSize;
    }

    /** KVM_CHECK_EXTENSION on the VM fd (some answers, e.g. MSI_DEVID, differ from /dev/kvm's). */
    public int checkExtension(int cap) {
        return Math.max(Libc.ioctlRaw(fd(), KvmUapi.KVM_CHECK_EXTENSION(), cap), 0);
    }

    /**
     * KVM_ENABLE_CAP on the VM fd with the capability's first argument (most VM capabilities, e.g.
     * KVM_CAP_ARM_MTE, take none: pass 0). Some must come before the first vCPU is created.
     */
    public void enableCap(int cap, long arg0, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment c = kvm_enable_cap.allocate(a);
            kvm_enable_cap.cap(c, cap);
            kvm_enable_cap.args(c, 0, arg0);
            ioctl(KvmUapi.KVM_ENABLE_CAP(), c, "KVM_ENABLE_CAP(" + what + ")");
        }
    }

    /** Maps {@code host} at guest physical {@code gpa} in memslot {@code slot}. */
    public void setUserMemoryRegion(int slot, int flags, long gpa, MemorySegment host) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = kvm_userspace_memory_region.allocate(a);
            kvm_userspace_memory_region.slot(r, slot);
            kvm_userspace_memory_region.flags(r, flags);
            kvm_userspace_memory_region.guest_phys_addr(r, gpa);
            kvm_userspace_memory_region.memory_size(r, host.byteSize());
            kvm_userspace_memory_region.userspace_addr(r, host.address());
            ioctl(
                    KvmUapi.KVM_SET_USER_MEMORY_REGION(),
                    r,
                    "KVM_SET_USER_MEMORY_REGION(slot " + slot + ")");
        }
    }

    public Vcpu createVcpu(int id) {
        int vcpuFd = ioctl(KvmUapi.KVM_CREATE_VCPU(), id, "KVM_CREATE_VCPU(" + id + ")");
        MemorySegment run;
        try {
            run =
                    Libc.mmap(
                            vcpuMmapSize,
                            Libc.PROT_READ | Libc.PROT_WRITE,
                            Libc.MAP_SHARED,
                            vcpuFd,
                            0,
                            "mmap(kvm_run of vcpu " + id + ")");
        } catch (KvmException e) {
            Libc.close(vcpuFd);
            throw e;
        }
        return new Vcpu(vcpuFd, id, run);
    }

    /** KVM_ARM_PREFERRED_TARGET: the target to pass to {@link Vcpu#init}. */
    public int preferredTarget() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment init = a.allocate(VcpuInitLayout.BYTES, 4);
            ioctl(KvmUapi.KVM_ARM_PREFERRED_TARGET(), init, "KVM_ARM_PREFERRED_TARGET");
            return VcpuInitLayout.target(init);
        }
    }

    /** KVM_CREATE_DEVICE of a KVM_DEV_TYPE_* (e.g. the vGICv3). */
    public Device createDevice(int type, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = kvm_create_device.allocate(a);
            kvm_create_device.type(d, type);
            ioctl(KvmUapi.KVM_CREATE_DEVICE(), d, "KVM_CREATE_DEVICE(" + name + ")");
            return new Device(kvm_create_device.fd(d), name);
        }
    }

    /** True when KVM_CREATE_DEVICE would accept {@code type} (KVM_CREATE_DEVICE_TEST). */
    public boolean canCreateDevice(int type) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = kvm_create_device.allocate(a);
            kvm_create_device.type(d, type);
            kvm_create_device.flags(d, KvmUapi.KVM_CREATE_DEVICE_TEST());
            return Libc.ioctlRaw(fd(), KvmUapi.KVM_CREATE_DEVICE(), d) == 0;
        }
    }

    public boolean hasAttribute(int group, long attribute) {
        return DeviceAttrs.has(fd(), group, attribute);
    }

    /** Installs one SMCCC filter range (KVM_ARM_VM_SMCCC_FILTER); EBUSY once any vCPU has run. */
    public void setSmcccFilter(int base, int count, int action, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = kvm_smccc_filter.allocate(a);
            kvm_smccc_filter.base(f, base);
            kvm_smccc_filter.nr_functions(f, count);
            kvm_smccc_filter.action(f, (byte) action);
            DeviceAttrs.set(
                    fd(),
                    KvmUapi.KVM_ARM_VM_SMCCC_CTRL(),
                    KvmUapi.KVM_ARM_VM_SMCCC_FILTER(),
                    f,
                    "KVM_ARM_VM_SMCCC_FILTER(" + what + ")");
        }
    }

    /**
     * KVM_IRQ_LINE with an arm64 irq field (type | vcpu | number) built by the caller. Called per
     * device interrupt edge (a UART write can raise and lower one), from vCPU and device threads:
     * each thread reuses its own preallocated {@code kvm_irq_level}, so a call allocates nothing
     * after a thread's first, and the error text is built only on failure.
     */
    public void irqLine(int irq, boolean level) {
        MemorySegment l = irqLevel.get();
        kvm_irq_level.irq(l, irq);
        kvm_irq_level.level(l, level ? 1 : 0);
        int r = Libc.shortIoctlRaw(fd(), KVM_IRQ_LINE, l);
        if (r < 0) throw new KvmException("KVM_IRQ_LINE(" + Integer.toHexString(irq) + ")", -r);
    }

    private static final long KVM_IRQ_LINE = KvmUapi.KVM_IRQ_LINE();

    /**
     * KVM_SIGNAL_MSI: the write of {@code data} to the doorbell at {@code address} a device would
     * make, from device {@code devid} when {@code flags} has KVM_MSI_VALID_DEVID (an ITS needs it).
     *
     * @return 1 when KVM delivered it, 0 when the guest's ITS translates it to nothing (the device
     *     or event is not mapped)
     * @throws KvmException for anything else: EBUSY while the guest has not enabled the ITS or its
     *     LPIs, EINVAL when no ITS is at {@code address}, ENODEV when the VM has no ITS
     */
    public int signalMsi(long address, int data, int devid, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = kvm_msi.allocate(a);
            kvm_msi.address_lo(m, (int) address);
            kvm_msi.address_hi(m, (int) (address >>> 32));
            kvm_msi.data(m, data);
            kvm_msi.flags(m, flags);
            kvm_msi.devid(m, devid);
            return ioctl(
                    KvmUapi.KVM_SIGNAL_MSI(),
                    m,
                    String.format(
                            "KVM_SIGNAL_MSI(0x%x, data %d, devid 0x%x)", address, data, devid));
        }
    }

    private final ThreadLocal<MemorySegment> irqLevel =
            ThreadLocal.withInitial(() -> kvm_irq_level.allocate(Arena.ofAuto()));

    /** Routes eventfd {@code efd} to interrupt {@code gsi} (an SPI number for the vGIC). */
    public void irqfd(int efd, int gsi) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = kvm_irqfd.allocate(a);
            kvm_irqfd.fd(s, efd);
            kvm_irqfd.gsi(s, gsi);
            ioctl(KvmUapi.KVM_IRQFD(), s, "KVM_IRQFD(gsi " + gsi + ")");
        }
    }

    /**
     * KVM_SET_GSI_ROUTING: replaces the VM's whole routing table with {@code routes} (KVM's default
     * table, one identity entry per SPI, is gone after the first call). irqfds bound to a GSI
     * follow its new entry; a GSI without an entry delivers nothing.
     */
    public void setGsiRouting(java.util.List<IrqRoute> routes) {
        try (Arena a = Arena.ofConfined()) {
            ioctl(
                    KvmUapi.KVM_SET_GSI_ROUTING(),
                    IrqRouting.encode(a, routes),
                    "KVM_SET_GSI_ROUTING(" + routes.size() + " entries)");
        }
    }

    /**
     * Signals eventfd {@code efd} on a guest write of {@code len} bytes to {@code addr} (any
     * value).
     */
    public void ioeventfd(int efd, long addr, int len) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = kvm_ioeventfd.allocate(a);
            kvm_ioeventfd.fd(s, efd);
            kvm_ioeventfd.addr(s, addr);
            kvm_ioeventfd.len(s, len);
            ioctl(KvmUapi.KVM_IOEVENTFD(), s, "KVM_IOEVENTFD(0x" + Long.toHexString(addr) + ")");
        }
    }

    /**
     * Signals eventfd {@code efd} on a guest write of {@code len} bytes of exactly {@code
     * datamatch} to {@code addr} (KVM_IOEVENTFD_FLAG_DATAMATCH), without an exit to userspace;
     * other values still exit as MMIO. Several eventfds may share one address with different values
     * (one per virtqueue).
     */
    public void ioeventfd(int efd, long addr, int len, long datamatch) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = kvm_ioeventfd.allocate(a);
            kvm_ioeventfd.fd(s, efd);
            kvm_ioeventfd.addr(s, addr);
            kvm_ioeventfd.len(s, len);
            kvm_ioeventfd.datamatch(s, datamatch);
            kvm_ioeventfd.flags(s, KvmUapi.KVM_IOEVENTFD_FLAG_DATAMATCH());
            ioctl(
                    KvmUapi.KVM_IOEVENTFD(),
                    s,
                    String.format("KVM_IOEVENTFD(0x%x == %d)", addr, datamatch));
        }
    }

    /**
     * KVM_IOEVENTFD_FLAG_DEASSIGN, {@code 1 << kvm_ioeventfd_flag_nr_deassign}: an enum-derived
     * macro jextract does not export.
     */
    static final int IOEVENTFD_FLAG_DEASSIGN = 1 << 2;

    /**
     * Removes the ioeventfd {@link #ioeventfd(int, long, int)} registered for {@code efd} at {@code
     * addr} (a PCI BAR the guest moved).
     */
    public void ioeventfdRemove(int efd, long addr, int len) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = kvm_ioeventfd.allocate(a);
            kvm_ioeventfd.fd(s, efd);
            kvm_ioeventfd.addr(s, addr);
            kvm_ioeventfd.len(s, len);
            kvm_ioeventfd.flags(s, IOEVENTFD_FLAG_DEASSIGN);
            ioctl(
                    KvmUapi.KVM_IOEVENTFD(),
                    s,
                    "KVM_IOEVENTFD(deassign 0x" + Long.toHexString(addr) + ")");
        }
    }
}
