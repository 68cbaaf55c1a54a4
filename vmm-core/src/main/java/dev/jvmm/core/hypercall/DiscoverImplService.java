package dev.jvmm.core.hypercall;

import java.util.List;

/**
 * The KVM vendor-hypervisor calls that tell a guest which CPU implementations it may run on
 * (Documentation/virt/kvm/arm/hypercalls.rst), which KVM leaves to the VMM:
 *
 * <ul>
 *   <li>DISCOVER_IMPL_VER (0xC6000040): x0 SUCCESS, x1 the ABI version 1.0 (major in bits 31:16,
 *       minor in 15:0), x2 the number of implementations.
 *   <li>DISCOVER_IMPL_CPUS (0xC6000041): x1 an index; x0 SUCCESS and x1..x3 that implementation's
 *       MIDR_EL1, REVIDR_EL1, AIDR_EL1, or x0 INVALID_PARAMETER for an index past the list.
 * </ul>
 *
 * A guest finds them through KVM_FEATURES (bits 64 and 65: VENDOR_HYP_BMAP_2 bits 0 and 1), which
 * KVM answers from that register on kernels that have it (Linux 6.15+). The list is fixed for the
 * VM's life; the guest reads it once at boot, and a restored guest keeps the list it read.
 */
public final class DiscoverImplService implements SmcccService {
    public static final int VER = 0xC600_0040, CPUS = 0xC600_0041;

    /** {@code ARM_SMCCC_KVM_DISCOVER_IMPL_VER_1_0}. */
    public static final long VERSION_1_0 = 1L << 16;

    private final List<ImplCpu> cpus;

    public DiscoverImplService(List<ImplCpu> cpus) {
        if (cpus.isEmpty()) throw new IllegalArgumentException("no CPU implementations");
        this.cpus = List.copyOf(cpus);
    }

    public List<ImplCpu> cpus() {
        return cpus;
    }

    @Override
    public String name() {
        return "discover-impl";
    }

    @Override
    public List<FunctionRange> claims() {
        return List.of(new FunctionRange(Smccc.unsigned(VER), Smccc.unsigned(CPUS)));
    }

    @Override
    public SmcccResult call(SmcccCall call) {
        return switch (call.functionId()) {
            case VER -> new SmcccResult.Values(Smccc.SUCCESS, VERSION_1_0, cpus.size(), 0);
            case CPUS -> {
                long index = call.arg(1);
                if (index < 0 || index >= cpus.size())
                    yield SmcccResult.of(Smccc.INVALID_PARAMETER);
                ImplCpu c = cpus.get((int) index);
                yield new SmcccResult.Values(Smccc.SUCCESS, c.midr(), c.revidr(), c.aidr());
            }
            default -> SmcccResult.notSupported();
        };
    }
}
