package dev.jvmm.cli;

import dev.jvmm.core.api.ControlProtocol;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.ToIntFunction;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ScopeType;

/**
 * {@code jvmm ctl}'s command-line model: its options and subcommands with their help, each
 * subcommand calling {@link CtlCommand} (built in code: {@link CliModel}). A subcommand's own
 * options and parameters keep their values in the model; the subcommand reads them from there.
 */
final class CtlModel {
    private CtlModel() {}

    static CommandSpec of(CtlCommand c) {
        CommandSpec spec =
                CliModel.command(
                        c,
                        "ctl",
                        "Control a running jvmm (one started with --api-socket PATH).",
                        "Exit 0 on success, 1 when the VM answers an error or the socket cannot be reached, 2 on bad usage.");
        spec.usageMessage().sortOptions(false);
        c.spec = spec;
        spec.addOption(
                CliModel.value(
                        Path.class,
                        () -> c.socket,
                        v -> c.socket = v,
                        OptionSpec.builder("--socket")
                                .paramLabel("PATH")
                                .scopeType(ScopeType.INHERIT)
                                .description(
                                        "The control socket given to jvmm run --api-socket.")));
        spec.addOption(
                CliModel.flag(
                        () -> c.json,
                        v -> c.json = v,
                        OptionSpec.builder("--json")
                                .scopeType(ScopeType.INHERIT)
                                .description("Print the VM's raw JSON response line.")));
        CliModel.standardHelp(spec);
        add(
                spec,
                sub(
                        "hypercall-stats",
                        s -> c.hypercallStats(),
                        "Calls per SMCCC function ID that jvmm handles: each ID jvmm "
                                + "serves, and the first 64 denied or unknown IDs the guest called; calls to further IDs are summed in one "
                                + "'other' line."));
        add(
                spec,
                sub(
                        "pause",
                        s -> c.pause(),
                        "Pause the VM: returns once every vCPU is stopped outside the guest, in-flight disk "
                                + "requests have finished and writable disks are flushed. The guest's clock "
                                + "stands still while paused; --timeout keeps counting; stop still works. "
                                + "Pausing a paused VM changes nothing (exit 0). A vCPU or device that does not "
                                + "come to rest within 5 s fails the pause (exit 1) and the VM keeps running."));
        add(
                spec,
                sub(
                        "resume",
                        s -> c.resume(),
                        "Let a paused VM continue where it stopped. Resuming a running VM changes"
                                + " nothing (exit 0)."));
        add(spec, sdeiSignal(c));
        add(spec, sharedRegions(c));
        add(spec, snapshot(c));
        add(
                spec,
                sub(
                        "status",
                        s -> c.status(),
                        "State, vCPUs, memory, uptime, pid and kernel of the VM."));
        add(spec, sub("stolen-time", s -> c.stolenTime(), "PV stolen time per vCPU."));
        add(spec, sub("stop", s -> c.stop(), "Stop the VM; its jvmm run exits 0."));
        return spec;
    }

    private static CommandSpec snapshot(CtlCommand c) {
        CommandSpec spec =
                sub(
                        "snapshot",
                        s -> c.snapshot(value(s, "--dir"), value(s, "--stop")),
                        "Write a snapshot of the VM to DIR (which must not exist, or be an empty directory):"
                                + " the guest is paused, its state and memory are written (zero pages are"
                                + " holes), and it resumes, or with --stop the VM ends (its jvmm run exits 0)."
                                + " Restore it with jvmm run --restore DIR.");
        spec.addOption(
                OptionSpec.builder("--dir")
                        .required(true)
                        .paramLabel("DIR")
                        .type(Path.class)
                        .description("The snapshot's directory.")
                        .build());
        spec.addOption(
                OptionSpec.builder("--stop")
                        .type(boolean.class)
                        .initialValue(false)
                        .description("End the VM once the snapshot is written.")
                        .build());
        return spec;
    }

    private static CommandSpec sdeiSignal(CtlCommand c) {
        CommandSpec spec =
                sub(
                        "sdei-signal",
                        s ->
                                c.sdeiSignal(
                                        s.positionalParameters().get(0).getValue(),
                                        value(s, "--cpu")),
                        "Raise SDEI event EVENT on a vCPU (event 0: the software-signalled event).");
        spec.addPositional(
                PositionalParamSpec.builder()
                        .index("0")
                        .arity("1")
                        .required(true)
                        .paramLabel("EVENT")
                        .type(String.class)
                        .description("Event number, 0..4294967295, decimal or 0x hex.")
                        .build());
        spec.addOption(
                OptionSpec.builder("--cpu")
                        .paramLabel("N")
                        .type(String.class)
                        .defaultValue("0")
                        .description("Target vCPU (default: ${DEFAULT-VALUE}).")
                        .build());
        return spec;
    }

    private static CommandSpec sharedRegions(CtlCommand c) {
        CommandSpec spec =
                sub(
                        "shared-regions",
                        s -> c.sharedRegions(value(s, "--from"), value(s, "--limit")),
                        "Guest memory the guest shared with the host: at most "
                                + ControlProtocol.MAX_REGIONS
                                + " regions per answer, with the total count and size; the last line "
                                + "says where the next page starts when there are more.");
        spec.addOption(
                OptionSpec.builder("--from")
                        .paramLabel("IPA")
                        .type(String.class)
                        .defaultValue("0")
                        .description(
                                "List from the granule holding IPA on (decimal or 0x hex; default: from the start).")
                        .build());
        spec.addOption(
                OptionSpec.builder("--limit")
                        .paramLabel("N")
                        .type(String.class)
                        .defaultValue("" + ControlProtocol.MAX_REGIONS)
                        .description(
                                "At most N regions, 1.."
                                        + ControlProtocol.MAX_REGIONS
                                        + " (default: ${DEFAULT-VALUE}).")
                        .build());
        return spec;
    }

    /**
     * A subcommand that runs {@code action} with its own model, holding its parsed values. It has
     * {@code -h}/{@code -V} like every jvmm command: a usage error's message points to its {@code
     * --help}.
     */
    private static CommandSpec sub(
            String name, ToIntFunction<CommandSpec> action, String... description) {
        CommandSpec[] self = new CommandSpec[1];
        Callable<Integer> call = () -> action.applyAsInt(self[0]);
        self[0] = CliModel.standardHelp(CliModel.command(call, name, description));
        return self[0];
    }

    private static void add(CommandSpec ctl, CommandSpec sub) {
        ctl.addSubcommand(sub.name(), new CommandLine(sub));
    }

    private static <T> T value(CommandSpec spec, String option) {
        return spec.findOption(option).getValue();
    }
}
