package dev.jvmm.core.hypercall;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One CPU implementation the guest may run on, as DISCOVER_IMPL_CPUS reports it: the values of
 * MIDR_EL1, REVIDR_EL1 and AIDR_EL1 on such a CPU. A guest kernel (Linux 6.15+) enables the errata
 * workarounds of every implementation in the list, so a VM can move between hosts of different
 * CPUs.
 *
 * <p>Text form ({@link #parse}), as {@code --impl-cpu} takes it: {@code
 * midr=VALUE[,revidr=VALUE][,aidr=VALUE]}, hex with {@code 0x} or decimal; REVIDR and AIDR default
 * to 0. The keys are QEMU's ({@code -M impl-cpu.N.midr=..,revidr=..,aidr=..}); the list's order is
 * the index the guest asks for.
 */
public record ImplCpu(long midr, long revidr, long aidr) {
    /** The most {@code --impl-cpu} a run takes: the guest allocates a slot for each at boot. */
    public static final int MAX = 64;

    /**
     * Parses {@code midr=..,revidr=..,aidr=..}.
     *
     * @throws IllegalArgumentException a one-line message naming {@code text} and what is wrong
     */
    public static ImplCpu parse(String text) {
        Map<String, Long> v = new LinkedHashMap<>();
        for (String item : text.split(",", -1)) {
            int eq = item.indexOf('=');
            String key =
                    eq < 0 ? item.trim() : item.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            if (eq < 0 || !(key.equals("midr") || key.equals("revidr") || key.equals("aidr"))) {
                throw bad(text, "'" + item.trim() + "' is not midr=, revidr= or aidr=");
            }
            if (v.containsKey(key)) throw bad(text, key + " given twice");
            v.put(key, number(text, key, item.substring(eq + 1).trim()));
        }
        if (!v.containsKey("midr")) throw bad(text, "midr= is missing");
        return new ImplCpu(v.get("midr"), v.getOrDefault("revidr", 0L), v.getOrDefault("aidr", 0L));
    }

    private static long number(String text, String key, String s) {
        String n = s.toLowerCase(Locale.ROOT);
        try {
            if (n.startsWith("0x")) return Long.parseUnsignedLong(n.substring(2), 16);
            if (!n.isEmpty() && Character.isDigit(n.charAt(0))) return Long.parseUnsignedLong(n);
        } catch (NumberFormatException e) {
            // below
        }
        throw bad(text, key + "=" + s + " is not a 64-bit number");
    }

    private static IllegalArgumentException bad(String text, String why) {
        return new IllegalArgumentException(
                "bad CPU implementation '"
                        + text
                        + "': "
                        + why
                        + " (use midr=VALUE[,revidr=VALUE][,aidr=VALUE], e.g. midr=0x410fd0c0)");
    }

    /** Canonical text that {@link #parse} reads back to an equal record. */
    @Override
    public String toString() {
        return String.format("midr=0x%x,revidr=0x%x,aidr=0x%x", midr, revidr, aidr);
    }
}
