package dev.jvmm.core.arch;

import dev.jvmm.core.fdt.FdtWriter;

/**
 * Adds device nodes to the guest tree: virtio-mmio transports, {@code /firmware/sdei} and the like.
 * Called with the writer inside the root node after the built-in nodes, so a contributor begins and
 * ends its own nodes and may rely on the root's {@code interrupt-parent} (the GIC) and {@code
 * #address-cells = #size-cells = 2}. See {@link DeviceTreeBuilder#virtioMmio} for an example.
 */
@FunctionalInterface
public interface FdtContributor {
    void addNodes(FdtWriter fdt);
}
