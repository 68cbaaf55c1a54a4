package dev.jvmm.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.jvmm.core.KvmHost;
import dev.jvmm.core.caps.CapabilityProbe;
import dev.jvmm.core.caps.HostCapabilities;
import dev.jvmm.kvm.Kvm;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** {@code jvmm caps}: what this host's KVM offers for jvmm. */
final class CapsCommand implements Callable<Integer> {
    CommandSpec spec; // set by model()

    boolean json;

    /** {@code jvmm caps}'s model (built in code: {@link CliModel}). */
    static CommandSpec model() {
        CapsCommand c = new CapsCommand();
        CommandSpec spec =
                CliModel.command(
                        c,
                        "caps",
                        "Show what this host's KVM offers jvmm: API, IPA size, vCPUs, PSCI (and the versions --psci"
                                + " accepts), vGICv3, PV stolen time, interrupt controllers (GICv3 ITS, MSI device IDs, GICv2), SMCCC filter, hypercall bitmap limits and the services"
                                + " --hypercalls can offer, memory locking (--mem-lock), CPU features (SVE with its vector"
                                + " lengths in bits, pointer authentication, MTE), the PMU --pmu would use and the"
                                + " host's CPU PMUs, irqfd/ioeventfd.");
        c.spec = spec;
        spec.addOption(
                CliModel.flag(
                        () -> c.json,
                        v -> c.json = v,
                        OptionSpec.builder("--json")
                                .description("Print one JSON object instead of a table.")));
        return CliModel.standardHelp(spec);
    }

    @Override
    public Integer call() throws IOException {
        NativeAccess.require();
        HostCapabilities caps;
        try (Kvm kvm = KvmHost.openArm64()) {
            caps = CapabilityProbe.probe(kvm);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(
                    JSON.std
                            .with(
                                    JSON.Feature.PRETTY_PRINT_OUTPUT,
                                    JSON.Feature.WRITE_NULL_PROPERTIES)
                            .asString(caps.asMap()));
        } else {
            printTable(out, "", caps.asMap());
        }
        out.flush();
        return ExitCodes.GUEST_POWEROFF;
    }

    /** One line per value: "section.key" padded, then the value ({@link #render}). */
    static void printTable(PrintWriter out, String prefix, Map<String, Object> map) {
        for (Map.Entry<String, Object> e : map.entrySet()) {
            String key = prefix + e.getKey();
            if (e.getValue() instanceof Map<?, ?> sub) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) sub;
                printTable(out, key + ".", m);
            } else {
                out.printf("%-38s %s%n", key, render(e.getValue()));
            }
        }
    }

    private static String render(Object v) {
        if (v == null) return "absent";
        if (v instanceof Boolean b) return b ? "yes" : "no";
        if (v instanceof java.util.Collection<?> c)
            return c.stream()
                    .map(String::valueOf)
                    .collect(java.util.stream.Collectors.joining(" "));
        return v.toString();
    }
}
