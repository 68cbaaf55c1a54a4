package dev.jvmm.core.vm;

import dev.jvmm.core.pci.MsiMessage;
import dev.jvmm.core.pci.MsixTable;
import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.kvm.sys.EventFd;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One PCI function's MSI-X vectors in KVM: vector n has its own eventfd, bound by irqfd to its own
 * MSI GSI when wired; the guest's table decides the GSI's route (its message, from this function's
 * requester ID), and delivering the vector is signalling its eventfd.
 */
final class MsixRoutes implements MsixTable.Sink {
    private final NotificationRouting kvm;
    private final List<EventFd> events;
    private final int[] gsis;
    private final int requesterId;
    private final boolean withDeviceId;

    /** Binds each of {@code events} (one per vector) to a new MSI GSI. */
    MsixRoutes(NotificationRouting kvm, List<EventFd> events, int requesterId) {
        this.kvm = kvm;
        this.events = List.copyOf(events);
        this.gsis = new int[events.size()];
        for (int v = 0; v < gsis.length; v++) gsis[v] = kvm.bindMsi(events.get(v));
        this.requesterId = requesterId;
        this.withDeviceId = kvm.msiNeedsDeviceId();
    }

    /** The GSI of vector {@code v}. */
    int gsi(int v) {
        return gsis[v];
    }

    @Override
    public void routes(Map<Integer, MsiMessage> changed) {
        Map<Integer, IrqRoute.Msi> r = new LinkedHashMap<>();
        for (Map.Entry<Integer, MsiMessage> c : changed.entrySet()) {
            int gsi = gsis[c.getKey()];
            MsiMessage m = c.getValue();
            r.put(
                    gsi,
                    m == null
                            ? null
                            : new IrqRoute.Msi(
                                    gsi, m.address(), m.data(), requesterId, withDeviceId));
        }
        kvm.routeMsi(r);
    }

    @Override
    public void fire(int vector) {
        events.get(vector).signal();
    }
}
