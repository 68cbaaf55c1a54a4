package dev.jvmm.core.snapshot;

import java.util.List;
import java.util.Map;

/**
 * What defines the guest a snapshot holds, as the source run decided it: a restore builds exactly
 * this machine (same memslots, device addresses, vCPU count and features), so no option of the
 * destination's command line may change it.
 *
 * @param cmdline informational: the kernel is not loaded again
 * @param irqchip {@code GICV3} or {@code GICV3_ITS}
 * @param psci the PSCI version the guest saw, e.g. {@code 1.1}
 * @param bitmaps the hypercall bitmap registers' values the guest was given, by {@code
 *     BitmapRegister} name; a register the source host lacked is absent
 * @param pvTime whether the guest had PV stolen-time records
 * @param sdeiEvents {@code --sdei-event} specs beyond event 0, as the user wrote them
 * @param smcccDeny {@code --smccc deny=} ranges
 * @param implCpus {@code --impl-cpu} CPU implementations in order ({@code
 *     midr=..,revidr=..,aidr=..}); null in snapshots written before jvmm served DISCOVER_IMPL, read
 *     as none
 * @param memLock a host policy, re-applied on the destination
 * @param virtioTransport how the virtio devices reach the guest, {@code mmio} or {@code pci}; null
 *     in snapshots written before jvmm saved virtio-pci machines, read as {@code mmio}
 * @param pciFunctions with {@code pci}, every PCI function the guest had, in device order (the
 *     layout a restore must build again); null or empty otherwise
 */
public record GuestDefinition(
        int cpus,
        long memoryBytes,
        String cmdline,
        String irqchip,
        boolean pmu,
        boolean sve,
        boolean ptrauth,
        String psci,
        Map<String, Long> bitmaps,
        boolean pvTime,
        boolean sdei,
        List<String> sdeiEvents,
        List<String> smcccDeny,
        boolean sharedRegions,
        List<String> implCpus,
        List<DiskIdentity> disks,
        List<NetDefinition> nets,
        boolean rng,
        boolean virtioConsole,
        boolean memLock,
        String virtioTransport,
        List<PciFunctionDefinition> pciFunctions) {

    /**
     * A disk the guest had: reattached at the same path; refused when it is no longer the file the
     * guest's caches describe.
     *
     * @param fileKey the file's identity (device and inode on Linux), or null where there is none
     * @param modifiedNanos the last modification after the disk was flushed for the snapshot
     */
    public record DiskIdentity(
            String path, boolean readOnly, long size, long modifiedNanos, String fileKey) {}

    /**
     * A PCI function the guest had, as built: its address on bus 0 ({@code 00:02.0}), IDs and the
     * size of each BAR (what the guest sized and placed).
     */
    public record PciFunctionDefinition(
            String address, int vendorId, int deviceId, List<Long> barSizes) {
        /** As lspci -n shows it: {@code 00:02.0 1af4:1042 BARs [0x4000]}. */
        public String describe() {
            return String.format(
                    "%s %04x:%04x BARs %s",
                    printable(address),
                    vendorId,
                    deviceId,
                    barSizes == null
                            ? "missing"
                            : barSizes.stream()
                                    .map(b -> b == null ? "null" : "0x" + Long.toHexString(b))
                                    .toList());
        }
    }

    /** {@code s} on one short line: a snapshot is input, and messages naming it stay one line. */
    static String printable(String s) {
        if (s == null) return "(no address)";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && i < 24; i++) {
            char c = s.charAt(i);
            b.append(c >= ' ' && c < 0x7f ? c : '?');
        }
        return s.length() > 24 ? b + "..." : b.toString();
    }

    /** A NIC the guest had, on the same tap with the same MAC. */
    public record NetDefinition(String tap, String mac) {}
}
