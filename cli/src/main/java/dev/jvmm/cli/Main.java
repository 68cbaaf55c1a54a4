package dev.jvmm.cli;

import dev.jvmm.core.JvmmException;
import dev.jvmm.core.snapshot.HostProbeAhead;
import dev.jvmm.core.snapshot.SnapshotAhead;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Entry point: {@code jvmm COMMAND}. stdout belongs to the guest console; everything else goes to
 * stderr.
 *
 * <p>The top-level command's model is built in code ({@link #topLevel}), not from annotations:
 * reading an annotation makes the JDK define a proxy class for its type at run time, which the AOT
 * cache cannot hold ({@link CliModel} says what that costs). The subcommands are built in code too.
 */
public final class Main implements Runnable {
    /**
     * picocli's system property: regular expressions of the class names it has no converter for.
     */
    static final String CONVERTER_EXCLUDES = "picocli.converters.excludes";

    /**
     * Every subcommand, in the order --help lists them; registering one is one line here. A model
     * is built only for the commands a run needs (see {@link #commandLine}): {@code help} is
     * picocli's own command, read from its annotations, so only the full tree pays for that.
     */
    private static final List<Subcommand> SUBCOMMANDS =
            List.of(
                    new Subcommand("run", () -> RunModel.of(new RunCommand())),
                    new Subcommand("caps", CapsCommand::model),
                    new Subcommand("ctl", () -> CtlModel.of(new CtlCommand())),
                    new Subcommand("aot-train", AotTrainCommand::model),
                    new Subcommand("help", CommandLine.HelpCommand::new));

    /** A subcommand's name and what makes its model (or its annotated object). */
    private record Subcommand(String name, Supplier<Object> model) {}

    /**
     * picocli registers a converter for each java.time and java.sql type by loading, and so
     * initialising, the class (YearMonth's and MonthDay's parsers build date-time formatters):
     * ~0.15 s of a start's main thread in a class-initialisation timeline in the lab
     * (bench/README.md, restore benchmark, 2026-12-08). No jvmm option has such a type (its
     * durations have their own converter), so picocli's documented switch leaves them out, unless
     * it is set.
     */
    static {
        if (System.getProperty(CONVERTER_EXCLUDES) == null)
            System.setProperty(CONVERTER_EXCLUDES, "java\\.time\\..*,java\\.sql\\..*");
    }

    /** What every command's {@code -V} prints. */
    private static final VersionProvider VERSION = new VersionProvider();

    private CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(), "a command is required (try: jvmm caps)");
    }

    public static void main(String[] args) {
        // a restore's snapshot read and host probe start beside picocli's start, not after it
        String restore = RunCommand.restoreDir(args);
        if (restore != null) {
            SnapshotAhead.startEarly(restore);
            HostProbeAhead.startEarly();
        }
        System.exit(
                execute(
                        args,
                        new PrintWriter(System.out, true, StandardCharsets.UTF_8),
                        new PrintWriter(System.err, true, StandardCharsets.UTF_8)));
    }

    /** Runs the CLI with the given streams and returns the exit code (tests call this). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        return execute(() -> commandLine(args), args, out, err);
    }

    /** Runs {@code args} on the command tree {@code tree} makes. */
    static int execute(
            Supplier<CommandLine> tree, String[] args, PrintWriter out, PrintWriter err) {
        try {
            CommandLine cl = tree.get(); // may initialise a command's class
            cl.setOut(out);
            cl.setErr(err);
            return cl.execute(args);
        } catch (RuntimeException | Error e) { // e.g. a command's class failing to initialise
            if (!NativeAccess.isDenial(e)) throw e;
            err.println("jvmm: " + NativeAccess.MESSAGE);
            return ExitCodes.HOST_ERROR;
        }
    }

    /**
     * The whole command tree, every subcommand registered: what --help, {@code jvmm help CMD}, an
     * unknown command, and generated documentation (man page, shell completion) need.
     */
    public static CommandLine fullCommandLine() {
        return commandLine(SUBCOMMANDS);
    }

    /**
     * The command tree {@code args} need: when they start with a subcommand's name ({@code jvmm run
     * ...}, {@code jvmm ctl ...}), only that one; for exactly {@code --version}, none; for anything
     * else (help, no command, an unknown one, an @argfile, top-level options) all of them, so that
     * what picocli prints is the same as with the whole tree.
     */
    static CommandLine commandLine(String[] args) {
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V")))
            return commandLine(List.of());
        if (args.length > 0 && !args[0].equals("help")) {
            for (Subcommand sub : SUBCOMMANDS) {
                if (args[0].equals(sub.name())) return commandLine(List.of(sub));
            }
        }
        return fullCommandLine();
    }

    /**
     * {@code jvmm} itself: its name, description, version and the standard {@code -h}/{@code -V}
     * options (what {@code mixinStandardHelpOptions} would add, with picocli's own wording).
     */
    static CommandSpec topLevel() {
        Main main = new Main();
        CommandSpec spec = CommandSpec.wrapWithoutInspection(main);
        main.spec = spec;
        spec.name("jvmm").versionProvider(VERSION);
        spec.usageMessage()
                .description("A kvmtool-style virtual machine monitor for arm64 KVM, in Java.")
                .exitCodeListHeading("%nExit codes:%n");
        return CliModel.standardHelp(spec);
    }

    private static CommandLine commandLine(List<Subcommand> subcommands) {
        CommandLine cl = new CommandLine(topLevel());
        // subcommands first: the settings below apply to the subcommands already there
        for (Subcommand sub : subcommands) cl.addSubcommand(sub.name(), sub.model().get());
        cl.setExecutionExceptionHandler(Main::handleExecutionException);
        cl.setParameterExceptionHandler(Main::handleParameterException);
        cl.setCaseInsensitiveEnumValuesAllowed(true); // the help documents --on-reset exit|reboot
        cl.setUsageHelpLongOptionsMaxWidth(30);
        for (CommandLine sub : cl.getSubcommands().values()) {
            sub.getCommandSpec().versionProvider(VERSION); // jvmm run -V printed nothing
            sub.getCommandSpec()
                    .usageMessage()
                    .exitCodeListHeading("%nExit codes:%n")
                    .exitCodeList(exitCodes());
        }
        // ctl is a client, not a VM run: its codes are its own
        CommandLine ctl = cl.getSubcommands().get("ctl");
        if (ctl != null) {
            ctl.getCommandSpec().usageMessage().exitCodeList(ctlExitCodes());
            for (CommandLine sub : ctl.getSubcommands().values()) {
                sub.getCommandSpec().versionProvider(VERSION);
                sub.getCommandSpec()
                        .usageMessage()
                        .exitCodeListHeading("%nExit codes:%n")
                        .exitCodeList(ctlExitCodes());
            }
        }
        cl.getCommandSpec().usageMessage().exitCodeList(exitCodes());
        return cl;
    }

    private static java.util.Map<String, String> ctlExitCodes() {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put(String.format("%6s", "0"), "the VM answered ok");
        m.put(
                String.format("%6s", "1"),
                "the VM answered an error, or the socket cannot be reached");
        m.put(String.format("%6s", "2"), "usage error (bad option or argument)");
        return m;
    }

    private static java.util.Map<String, String> exitCodes() {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        for (String line : ExitCodes.HELP_LIST) {
            int i = line.indexOf(':');
            m.put(String.format("%6s", line.substring(0, i)), line.substring(i + 1));
        }
        return m;
    }

    /**
     * A bad option or value is one line naming it and where the options are listed, exit 2
     * (picocli's default would follow it with the whole usage text).
     */
    private static int handleParameterException(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        String msg =
                ex.getMessage() == null
                        ? "bad arguments"
                        : ex.getMessage().strip().replaceAll("\\s*\\R\\s*", "; ");
        cl.getErr()
                .println(
                        "jvmm: "
                                + msg
                                + " (see: "
                                + cl.getCommandSpec().qualifiedName()
                                + " --help)");
        return ExitCodes.USAGE;
    }

    /**
     * Expected failures are one line on stderr and a documented code; only bugs get a stack trace.
     */
    private static int handleExecutionException(
            Exception ex, CommandLine cl, CommandLine.ParseResult pr) {
        PrintWriter err = cl.getErr();
        JvmmException.Kind kind = JvmmException.kindOf(ex);
        if (kind != null) {
            err.println("jvmm: " + ex.getMessage());
            return ExitCodes.of(kind);
        }
        if (NativeAccess.isDenial(ex)) {
            err.println("jvmm: " + NativeAccess.MESSAGE);
            return ExitCodes.HOST_ERROR;
        }
        err.println("jvmm: internal error: " + ex);
        ex.printStackTrace(err);
        return ExitCodes.HOST_ERROR;
    }
}
