package dev.jvmm.core.hypercall;

import dev.jvmm.core.hypercall.sdei.Sdei;
import dev.jvmm.core.hypercall.shared.SharedRegionService;
import java.util.Map;

/**
 * Names for the function IDs jvmm serves, for statistics ({@code SDEI_EVENT_SIGNAL}, {@code
 * MEM_SHARE}).
 */
public final class SmcccNames {
    private SmcccNames() {}

    private static final Map<Long, String> NAMES =
            Map.ofEntries(
                    e(Sdei.VERSION, "SDEI_VERSION"),
                    e(Sdei.EVENT_REGISTER, "SDEI_EVENT_REGISTER"),
                    e(Sdei.EVENT_ENABLE, "SDEI_EVENT_ENABLE"),
                    e(Sdei.EVENT_DISABLE, "SDEI_EVENT_DISABLE"),
                    e(Sdei.EVENT_CONTEXT, "SDEI_EVENT_CONTEXT"),
                    e(Sdei.EVENT_COMPLETE, "SDEI_EVENT_COMPLETE"),
                    e(Sdei.EVENT_COMPLETE_AND_RESUME, "SDEI_EVENT_COMPLETE_AND_RESUME"),
                    e(Sdei.EVENT_UNREGISTER, "SDEI_EVENT_UNREGISTER"),
                    e(Sdei.EVENT_STATUS, "SDEI_EVENT_STATUS"),
                    e(Sdei.EVENT_GET_INFO, "SDEI_EVENT_GET_INFO"),
                    e(Sdei.EVENT_ROUTING_SET, "SDEI_EVENT_ROUTING_SET"),
                    e(Sdei.PE_MASK, "SDEI_PE_MASK"),
                    e(Sdei.PE_UNMASK, "SDEI_PE_UNMASK"),
                    e(Sdei.INTERRUPT_BIND, "SDEI_INTERRUPT_BIND"),
                    e(Sdei.INTERRUPT_RELEASE, "SDEI_INTERRUPT_RELEASE"),
                    e(Sdei.EVENT_SIGNAL, "SDEI_EVENT_SIGNAL"),
                    e(Sdei.FEATURES, "SDEI_FEATURES"),
                    e(Sdei.PRIVATE_RESET, "SDEI_PRIVATE_RESET"),
                    e(Sdei.SHARED_RESET, "SDEI_SHARED_RESET"),
                    e(VendorHypFeatures.FEATURES_FUNC_ID, "KVM_FEATURES"),
                    e(SharedRegionService.HYP_MEMINFO, "HYP_MEMINFO"),
                    e(SharedRegionService.MEM_SHARE, "MEM_SHARE"),
                    e(SharedRegionService.MEM_UNSHARE, "MEM_UNSHARE"));

    private static Map.Entry<Long, String> e(int id, String name) {
        return Map.entry(Smccc.unsigned(id), name);
    }

    /** The name of {@code functionId} (unsigned), or null when jvmm has none. */
    public static String of(long functionId) {
        return NAMES.get(functionId);
    }
}
