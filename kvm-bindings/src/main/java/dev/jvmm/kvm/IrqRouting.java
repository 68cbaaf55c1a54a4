package dev.jvmm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * {@code struct kvm_irq_routing} and its entries, written by hand: the generated bindings leave the
 * routing structs out (their union is mostly x86, s390 and Xen). BindingsMatchCompilerTest checks
 * every size and offset here against the arm64 uapi header with the C compiler.
 */
public final class IrqRouting {
    private IrqRouting() {}

    /** sizeof(struct kvm_irq_routing): nr, flags, then the entries. */
    public static final int HEADER_SIZE = 8;

    public static final int NR = 0, FLAGS = 4;

    /** sizeof(struct kvm_irq_routing_entry): gsi, type, flags, pad, then a 32-byte union. */
    public static final int ENTRY_SIZE = 48;

    public static final int ENTRY_GSI = 0, ENTRY_TYPE = 4, ENTRY_FLAGS = 8, ENTRY_U = 16;

    /** Offsets inside the union: kvm_irq_routing_irqchip. */
    public static final int IRQCHIP_IRQCHIP = 0, IRQCHIP_PIN = 4;

    /** Offsets inside the union: kvm_irq_routing_msi. */
    public static final int MSI_ADDRESS_LO = 0, MSI_ADDRESS_HI = 4, MSI_DATA = 8, MSI_DEVID = 12;

    /** KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQ_ROUTING_MSI, KVM_MSI_VALID_DEVID. */
    public static final int TYPE_IRQCHIP = 1, TYPE_MSI = 2, MSI_VALID_DEVID = 1;

    /** KVM_MAX_IRQ_ROUTES of arm64 (include/linux/kvm_host.h): entries and GSIs are below it. */
    public static final int MAX_ROUTES = 4096;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    /** {@code routes} as the argument of KVM_SET_GSI_ROUTING, zero-padded. */
    public static MemorySegment encode(Arena arena, List<IrqRoute> routes) {
        MemorySegment s = arena.allocate(HEADER_SIZE + (long) ENTRY_SIZE * routes.size(), 8);
        s.set(U32, NR, routes.size());
        for (int i = 0; i < routes.size(); i++) {
            long e = HEADER_SIZE + (long) ENTRY_SIZE * i;
            IrqRoute r = routes.get(i);
            s.set(U32, e + ENTRY_GSI, r.gsi());
            switch (r) {
                case IrqRoute.Irqchip c -> {
                    s.set(U32, e + ENTRY_TYPE, TYPE_IRQCHIP);
                    s.set(U32, e + ENTRY_U + IRQCHIP_IRQCHIP, 0); // the vGIC is irqchip 0
                    s.set(U32, e + ENTRY_U + IRQCHIP_PIN, c.pin());
                }
                case IrqRoute.Msi m -> {
                    s.set(U32, e + ENTRY_TYPE, TYPE_MSI);
                    s.set(U32, e + ENTRY_FLAGS, m.validDevid() ? MSI_VALID_DEVID : 0);
                    s.set(U32, e + ENTRY_U + MSI_ADDRESS_LO, (int) m.address());
                    s.set(U32, e + ENTRY_U + MSI_ADDRESS_HI, (int) (m.address() >>> 32));
                    s.set(U32, e + ENTRY_U + MSI_DATA, m.data());
                    s.set(U32, e + ENTRY_U + MSI_DEVID, m.validDevid() ? m.devid() : 0);
                }
            }
        }
        return s;
    }
}
