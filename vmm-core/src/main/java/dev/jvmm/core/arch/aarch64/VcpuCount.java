package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.UnsupportedRequestException;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.util.Optional;

/**
 * The vCPU count against what this host's KVM says, checked on the new VM before any vCPU exists.
 * Layout already refused more than its redistributor region holds ({@code Layout.MAX_VCPUS}).
 *
 * <ul>
 *   <li>Above the VM's {@code KVM_CAP_MAX_VCPUS} KVM_CREATE_VCPU would fail: refused on one line
 *       (kvmtool silently lowers the count instead; a script asking for N vCPUs should get N or a
 *       clear no).
 *   <li>Above {@code KVM_CAP_NR_VCPUS} (on arm64 the host's online CPUs) the vCPUs share physical
 *       CPUs: slower, never wrong, and what a test of SMP code on a small machine wants. A warning,
 *       and the VM runs, as kvmtool does ("The maximum recommended amount of VCPUs is N").
 * </ul>
 */
final class VcpuCount {
    private VcpuCount() {}

    static void check(Vm vm, int cpus, System.Logger log) {
        int max = vm.checkExtension(KvmUapi.KVM_CAP_MAX_VCPUS());
        refuseAboveMax(cpus, max);
        warning(cpus, vm.checkExtension(KvmUapi.KVM_CAP_NR_VCPUS()))
                .ifPresent(w -> log.log(System.Logger.Level.WARNING, w));
    }

    /** Throws when {@code cpus} is above {@code max} (a positive KVM_CAP_MAX_VCPUS). */
    static void refuseAboveMax(int cpus, int max) {
        if (max > 0 && cpus > max) {
            throw new UnsupportedRequestException(
                    String.format(
                            "%d vCPUs: this host's KVM allows at most %d per VM (KVM_CAP_MAX_VCPUS)",
                            cpus, max));
        }
    }

    /** The warning for {@code cpus} on a host with {@code online} CPUs, if any. */
    static Optional<String> warning(int cpus, int online) {
        if (online <= 0 || cpus <= online) return Optional.empty();
        return Optional.of(
                String.format(
                        "%d vCPUs on a host with %d online CPUs: vCPUs will share CPUs (slower, not"
                                + " wrong); running anyway",
                        cpus, online));
    }
}
