package dev.jvmm.core.hypercall;

import dev.jvmm.core.JvmmException;
import dev.jvmm.core.hypercall.sdei.SdeiEventSpec;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The user's choice of userspace hypercall services, validated (the CLI builds it from --sdei,
 * --sdei-event, --smccc deny=, --shared-regions).
 *
 * @param sdei serve SDEI 1.1 and describe it in the device tree
 * @param sdeiEvents platform events besides event 0 (only with {@code sdei})
 * @param deny function-ID ranges answered NOT_SUPPORTED
 * @param sharedRegions serve the pKVM memory-sharing calls and advertise them in vendor-hyp
 *     FEATURES
 * @param implCpus the CPU implementations DISCOVER_IMPL_VER/_CPUS report ({@code --impl-cpu}, in
 *     order); empty: jvmm does not serve those calls
 */
public record HypercallConfig(
        boolean sdei,
        List<SdeiEventSpec> sdeiEvents,
        List<FunctionRange> deny,
        boolean sharedRegions,
        List<ImplCpu> implCpus) {
    public static final HypercallConfig NONE =
            new HypercallConfig(false, List.of(), List.of(), false);

    /** Without --impl-cpu. */
    public HypercallConfig(
            boolean sdei,
            List<SdeiEventSpec> sdeiEvents,
            List<FunctionRange> deny,
            boolean sharedRegions) {
        this(sdei, sdeiEvents, deny, sharedRegions, List.of());
    }

    public HypercallConfig {
        sdeiEvents = List.copyOf(sdeiEvents);
        deny = List.copyOf(deny);
        implCpus = List.copyOf(implCpus);
        if (implCpus.size() > ImplCpu.MAX) {
            throw JvmmException.usage(
                    "--impl-cpu given "
                            + implCpus.size()
                            + " times; at most "
                            + ImplCpu.MAX
                            + " CPU implementations");
        }
        if (!sdei && !sdeiEvents.isEmpty()) {
            throw JvmmException.usage("--sdei-event " + sdeiEvents.get(0) + " needs --sdei");
        }
        Set<Integer> seen = new HashSet<>();
        for (SdeiEventSpec e : sdeiEvents) {
            if (!seen.add(e.number()))
                throw JvmmException.usage("--sdei-event " + e.number() + " given twice");
        }
        for (FunctionRange r : deny) r.requireFilterable("--smccc deny=");
    }

    /** The options that asked for services, as the user wrote them (for messages). */
    public String options() {
        java.util.List<String> o = new java.util.ArrayList<>();
        if (sdei) o.add("--sdei");
        if (sharedRegions) o.add("--shared-regions");
        deny.forEach(r -> o.add("--smccc deny=" + r));
        if (!implCpus.isEmpty()) o.add("--impl-cpu");
        return String.join(" ", o);
    }

    /** True when anything needs the SMCCC filter (and so a kernel with KVM_ARM_VM_SMCCC_FILTER). */
    public boolean needsFilter() {
        return sdei || sharedRegions || !deny.isEmpty() || !implCpus.isEmpty();
    }

    /** Whether jvmm answers DISCOVER_IMPL_VER and DISCOVER_IMPL_CPUS (--impl-cpu given). */
    public boolean servesDiscoverImpl() {
        return !implCpus.isEmpty();
    }
}
