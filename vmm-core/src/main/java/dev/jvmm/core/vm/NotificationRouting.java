package dev.jvmm.core.vm;

import dev.jvmm.core.arch.aarch64.GsiRoutes;
import dev.jvmm.core.arch.aarch64.Its;
import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.sys.EventFd;
import java.util.Map;

/**
 * The KVM registrations that take virtio's hot path off the vCPU threads: an ioeventfd turns a
 * guest's QueueNotify write into an eventfd signal inside KVM (no exit to userspace), an irqfd
 * turns an eventfd signal into a vGIC interrupt (an SPI, or with an ITS an MSI through a GSI
 * route). A {@link Vm} and its {@link GsiRoutes} in real runs; a recorder in tests.
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

    /** The VM can route MSIs (it has an ITS), so PCI functions offer MSI-X. */
    default boolean msi() {
        return false;
    }

    /** MSIs must carry the requester's device ID (KVM_MSI_VALID_DEVID). */
    default boolean msiNeedsDeviceId() {
        return false;
    }

    /** Binds {@code efd} to a new MSI GSI, routed later by {@link #routeMsi}. */
    default int bindMsi(EventFd efd) {
        throw new UnsupportedOperationException("this VM routes no MSIs");
    }

    /** Routes MSI GSIs (a null route: none), as one table update. */
    default void routeMsi(Map<Integer, IrqRoute.Msi> changes) {
        throw new UnsupportedOperationException("this VM routes no MSIs");
    }

    /**
     * The real thing: ioeventfds on {@code vm}, irqfds and routes through {@code routes}, MSIs when
     * {@code its} is not null.
     */
    static NotificationRouting of(Vm vm, GsiRoutes routes, Its its) {
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
                routes.bindSpi(efd.fd(), spi);
            }

            @Override
            public boolean msi() {
                return its != null;
            }

            @Override
            public boolean msiNeedsDeviceId() {
                return its != null && its.msiNeedsDeviceId();
            }

            @Override
            public int bindMsi(EventFd efd) {
                if (its == null) throw new UnsupportedOperationException("this VM has no ITS");
                return routes.bindMsi(efd.fd());
            }

            @Override
            public void routeMsi(Map<Integer, IrqRoute.Msi> changes) {
                routes.route(changes);
            }
        };
    }
}
