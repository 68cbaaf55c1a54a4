package dev.jvmm.core.arch.aarch64;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * One of the host's CPU PMUs as perf lists it in {@code /sys/bus/event_source/devices/<name>}: its
 * perf {@code type} (what KVM_ARM_VCPU_PMU_V3_SET_PMU takes) and the CPUs it covers. A
 * heterogeneous (big.LITTLE) host has one per kind of core.
 *
 * @param name the event source's name, e.g. {@code armv8_pmuv3_0} or {@code armv8_cortex_a72}
 * @param type the perf type number
 * @param cpus the CPUs it counts on
 */
public record HostPmu(String name, int type, BitSet cpus) {
    /** Where perf lists its event sources. */
    public static final Path SYSFS = Path.of("/sys/bus/event_source/devices");

    public HostPmu {
        Objects.requireNonNull(name, "name");
        cpus = (BitSet) cpus.clone();
    }

    @Override
    public BitSet cpus() {
        return (BitSet) cpus.clone();
    }

    /** "armv8_pmuv3_0 (type 10, CPUs 0-1)": for messages and {@code jvmm caps}. */
    public String describe() {
        return name + " (type " + type + ", CPUs " + cpuList(cpus) + ")";
    }

    /**
     * The CPU PMUs under {@code devices}, by name. Only arm_pmu's event sources have a {@code cpus}
     * file (uncore, SPE, software and tracepoint sources do not), so that file is what marks one.
     * An unreadable or missing directory yields no PMUs: the caller then leaves the choice to KVM.
     */
    public static List<HostPmu> read(Path devices) {
        List<HostPmu> pmus = new ArrayList<>();
        try (Stream<Path> entries = Files.list(devices)) {
            for (Path d : entries.sorted(Comparator.comparing(Path::toString)).toList()) {
                Path cpus = d.resolve("cpus");
                if (!Files.isRegularFile(cpus)) continue;
                try {
                    int type = Integer.parseInt(Files.readString(d.resolve("type")).trim());
                    BitSet set = parseCpuList(Files.readString(cpus));
                    pmus.add(new HostPmu(d.getFileName().toString(), type, set));
                } catch (IOException | IllegalArgumentException e) {
                    // a PMU that vanished or reads oddly: not one KVM could be pointed at either
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        return List.copyOf(pmus);
    }

    /**
     * Parses the kernel's CPU list format ("0-3,6,8-9"; empty for none), as sysfs and {@code
     * Cpus_allowed_list} print it.
     *
     * @throws IllegalArgumentException on anything else
     */
    public static BitSet parseCpuList(String list) {
        BitSet set = new BitSet();
        String s = list.strip();
        if (s.isEmpty()) return set;
        for (String part : s.split(",", -1)) {
            int dash = part.indexOf('-');
            int from = parseCpu(dash < 0 ? part : part.substring(0, dash), list);
            int to = dash < 0 ? from : parseCpu(part.substring(dash + 1), list);
            if (to < from) throw new IllegalArgumentException("bad CPU list '" + list + "'");
            set.set(from, to + 1);
        }
        return set;
    }

    private static int parseCpu(String s, String list) {
        try {
            int cpu = Integer.parseInt(s);
            if (cpu < 0 || cpu > 65535) throw new NumberFormatException();
            return cpu;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad CPU list '" + list + "'", e);
        }
    }

    /** The kernel's CPU list format for {@code set}: runs as "a-b", joined by commas. */
    public static String cpuList(BitSet set) {
        StringBuilder b = new StringBuilder();
        for (int from = set.nextSetBit(0); from >= 0; ) {
            int to = set.nextClearBit(from) - 1;
            if (b.length() > 0) b.append(',');
            b.append(from);
            if (to > from) b.append('-').append(to);
            from = set.nextSetBit(to + 1);
        }
        return b.toString();
    }
}
