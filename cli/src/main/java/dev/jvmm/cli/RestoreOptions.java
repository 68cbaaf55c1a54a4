package dev.jvmm.cli;

import java.util.List;
import java.util.Set;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Which {@code jvmm run} options go with {@code --restore DIR}: only those that do not change what
 * the guest sees. Everything that would (kernel, initrd, command line, vCPUs, memory, devices,
 * firmware, hypercall services, CPU features, ...) comes from the snapshot, so giving it is a usage
 * error naming the option — whatever options are added to {@code run} later, they are refused here
 * until they are listed as host-side.
 */
final class RestoreOptions {
    /** Host-side choices: where the console goes, the control socket, time limit, logging. */
    static final Set<String> ALLOWED =
            Set.of(
                    "--restore",
                    "--serial",
                    "--api-socket",
                    "--timeout",
                    "--log-level",
                    "--on-reset",
                    "--mem-lock");

    private RestoreOptions() {}

    /**
     * @throws UsageException naming the first option given with --restore that would change the
     *     guest
     */
    static void check(ParseResult parsed) {
        List<OptionSpec> matched = parsed.matchedOptions();
        for (OptionSpec o : matched) {
            String name = name(o);
            if (!ALLOWED.contains(name)) throw refused(name);
        }
    }

    /** The usage error for {@code option} given with --restore. */
    static UsageException refused(String option) {
        return new UsageException(
                "--restore: "
                        + option
                        + " would change the guest, which the snapshot defines; with"
                        + " --restore give only --serial, --api-socket, --timeout,"
                        + " --log-level, --on-reset or --mem-lock");
    }

    /** The option's first long name, as its --help lists it (--params, not --cmdline). */
    private static String name(OptionSpec o) {
        for (String n : o.names()) if (n.startsWith("--")) return n;
        return o.longestName();
    }
}
