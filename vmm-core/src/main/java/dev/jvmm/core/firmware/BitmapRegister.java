package dev.jvmm.core.firmware;

import dev.jvmm.kvm.RegIds;

/**
 * KVM's hypercall-service bitmap firmware registers
 * (Documentation/virt/kvm/arm/fw-pseudo-registers.rst). They are per-vCPU ONE_REGs with a VM-wide
 * effect. KVM resets the first three to the host's upper limit (every service it implements),
 * VENDOR_HYP_BMAP_2 to 0; a changed value is refused with EBUSY once any vCPU has run.
 */
public enum BitmapRegister {
    STD("STD_BMAP", "std"),
    STD_HYP("STD_HYP_BMAP", "std_hyp"),
    VENDOR_HYP("VENDOR_HYP_BMAP", "vendor_hyp"),
    VENDOR_HYP_2("VENDOR_HYP_BMAP_2", "vendor_hyp_2");

    private final String uapiName;
    private final String key;

    BitmapRegister(String uapiName, String key) {
        this.uapiName = uapiName;
        this.key = key;
    }

    /** The name in the uapi header without its KVM_REG_ARM_ prefix, for messages. */
    public String uapiName() {
        return uapiName;
    }

    /** The key `jvmm caps` reports it under. */
    public String key() {
        return key;
    }

    /**
     * The ONE_REG ID. Looked up here, not in the constructor: the CLI parses {@code --hypercalls}
     * into these constants, and RegIds' initialisation builds jextract layouts and reaches native
     * code, work (and a native-access check) that has no place in argument parsing.
     */
    public long regId() {
        return switch (this) {
            case STD -> RegIds.STD_BMAP;
            case STD_HYP -> RegIds.STD_HYP_BMAP;
            case VENDOR_HYP -> RegIds.VENDOR_HYP_BMAP;
            case VENDOR_HYP_2 -> RegIds.VENDOR_HYP_BMAP_2;
        };
    }

    /**
     * Whether KVM's reset value is its full set of services (so a host without the register still
     * offers them, and they cannot be hidden there). VENDOR_HYP_BMAP_2 resets to 0: its services
     * are opt-in.
     */
    public boolean defaultsToAll() {
        return this != VENDOR_HYP_2;
    }
}
