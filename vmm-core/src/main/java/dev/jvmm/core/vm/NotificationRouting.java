package dev.jvmm.core.vm;

import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.sys.EventFd;

/**
 * The two KVM registrations that take virtio's hot path off the vCPU threads: an ioeventfd turns a
 * guest's QueueNotify write into an eventfd signal inside KVM (no exit to userspace), an irqfd
 * turns an eventfd signal into a vGIC interrupt. A {@link Vm} in real runs; a recorder in tests.
 */
public interface NotificationRouting {
    /**
     * Signal {@code efd} when the guest writes the 4-byte value {@code datamatch} to {@code addr}.
     */
    void ioeventfd(EventFd efd, long addr, int len, long datamatch);

    /** Signal {@code efd} when the guest writes {@code len} bytes (any value) to {@code addr}. */
    void ioeventfd(EventFd efd, long addr, int len);

    /** Undo {@link #ioeventfd(EventFd, long, int)} (the guest moved a PCI BAR). */
    void removeIoeventfd(EventFd efd, long addr, int len);

    /** Inject SPI number {@code spi} (INTID - 32) when {@code efd} is signalled. */
    void irqfd(EventFd efd, int spi);

    static NotificationRouting of(Vm vm) {
        return new NotificationRouting() {
            @Override
            public void ioeventfd(EventFd efd, long addr, int len, long datamatch) {
                vm.ioeventfd(efd.fd(), addr, len, datamatch);
            }

            @Override
            public void ioeventfd(EventFd efd, long addr, int len) {
                vm.ioeventfd(efd.fd(), addr, len);
            }

            @Override
            public void removeIoeventfd(EventFd efd, long addr, int len) {
                vm.ioeventfdRemove(efd.fd(), addr, len);
            }

            @Override
            public void irqfd(EventFd efd, int spi) {
                vm.irqfd(efd.fd(), spi);
            }
        };
    }
}
