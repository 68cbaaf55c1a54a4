package dev.jvmm.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/** {@code jvmm ctl}'s human-readable rendering of the control API's JSON responses. */
final class CtlOutput {
    private CtlOutput() {}

    static void status(PrintWriter out, Map<String, Object> b) {
        row(out, "state", b.get("state"));
        row(out, "cpus", b.get("cpus"));
        long mem = number(b.get("memory_bytes"));
        row(out, "memory", (mem >> 20) + " MiB (" + mem + " bytes)");
        row(out, "uptime", String.format("%.1f s", number(b.get("uptime_ms")) / 1000.0));
        row(out, "pid", b.get("pid"));
        if (b.containsKey("kernel")) row(out, "kernel", b.get("kernel"));
    }

    static void sharedRegions(PrintWriter out, Map<String, Object> b) {
        List<Map<String, Object>> regions = list(b.get("regions"));
        if (regions.isEmpty()) {
            out.println("no shared regions");
            return;
        }
        out.printf("%-18s  %-18s  %s%n", "IPA", "END", "SIZE");
        for (Map<String, Object> r : regions) {
            long ipa = number(r.get("ipa")), size = number(r.get("size"));
            out.printf("0x%016x  0x%016x  0x%x%n", ipa, ipa + size, size);
        }
        long total = number(b.get("total_regions"));
        out.printf(
                "total: %d region%s, %d KiB%n",
                total, total == 1 ? "" : "s", number(b.get("total_bytes")) / 1024);
        if (b.get("next") != null) {
            out.printf("more: jvmm ctl shared-regions --from 0x%x%n", number(b.get("next")));
        }
    }

    static void stolenTime(PrintWriter out, Map<String, Object> b) {
        out.printf("%-4s  %s%n", "CPU", "STOLEN (ns)");
        for (Map<String, Object> v : list(b.get("vcpus"))) {
            out.printf("%-4d  %d%n", number(v.get("cpu")), number(v.get("stolen_ns")));
        }
    }

    static void hypercallStats(PrintWriter out, Map<String, Object> b) {
        List<Map<String, Object>> calls = list(b.get("calls"));
        long other = number(b.get("other_calls"));
        if (calls.isEmpty() && other == 0) {
            out.println("no hypercalls");
            return;
        }
        out.printf("%-10s  %-28s  %s%n", "FUNCTION", "NAME", "COUNT");
        for (Map<String, Object> c : calls) {
            Object name = c.get("name");
            out.printf(
                    "0x%08x  %-28s  %d%n",
                    number(c.get("function_id")),
                    name == null ? "-" : name,
                    number(c.get("count")));
        }
        if (other > 0) out.printf("%-10s  %-28s  %d%n", "other", "(IDs past the first 64)", other);
    }

    private static void row(PrintWriter out, String key, Object value) {
        out.printf("%-8s %s%n", key, value);
    }

    private static long number(Object o) {
        if (o instanceof Number n) return n.longValue();
        throw new IllegalStateException("the VM's response has " + o + " where a number belongs");
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object o) {
        if (o instanceof List<?> l) return (List<Map<String, Object>>) l;
        throw new IllegalStateException("the VM's response has " + o + " where a list belongs");
    }
}
