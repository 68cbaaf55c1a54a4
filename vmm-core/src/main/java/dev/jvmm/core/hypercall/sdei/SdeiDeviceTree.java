package dev.jvmm.core.hypercall.sdei;

import dev.jvmm.core.arch.FdtContributor;
import dev.jvmm.core.fdt.FdtNode;

/**
 * The device-tree binding that tells a guest SDEI firmware exists
 * (Documentation/devicetree/bindings/ arm/firmware/sdei.txt): {@code /firmware/sdei} with {@code
 * compatible = "arm,sdei-1.0"} and the conduit. The conduit is HVC, like PSCI's: HVC from EL1 traps
 * to KVM on every kernel, while SMC from EL1 is only handled (and filtered) since Linux 6.4 and
 * means "call EL3 firmware" to a guest.
 */
public final class SdeiDeviceTree {
    private SdeiDeviceTree() {}

    public static final String COMPATIBLE = "arm,sdei-1.0";
    public static final String METHOD = "hvc";

    public static FdtContributor node() {
        return fdt -> {
            FdtNode firmware = fdt.beginNode("firmware");
            FdtNode sdei = fdt.beginNode("sdei");
            fdt.propertyString("compatible", COMPATIBLE);
            fdt.propertyString("method", METHOD);
            fdt.endNode(sdei);
            fdt.endNode(firmware);
        };
    }
}
