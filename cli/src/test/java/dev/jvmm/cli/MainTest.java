package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jvmm.kvm.testing.Arm64KvmCondition;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MainTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void versionNamesJvmmAndTheRuntime() {
        Result r = run("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("jvmm "), r.out());
        assertTrue(r.out().contains("Java " + Runtime.version().feature()), r.out());
    }

    /**
     * No command users run reads an annotation: each annotation type read makes the JDK define a
     * proxy class at run time, which no AOT cache holds (the models are built in code, {@link
     * CliModel}). Each command line here is parsed in full and run up to its first refusal.
     */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "--version",
                "run -k /nonexistent/Image -c 2 -m 64M --rng --timeout 5s -d /nonexistent/disk",
                "run --restore /nonexistent/snapshot --serial none",
                "caps --json",
                "ctl --socket /nonexistent/sock snapshot --dir /nonexistent/dir --stop",
                "ctl --socket /nonexistent/sock sdei-signal 1 --cpu 0",
            })
    void commandsDefineNoProxyClass(String commandLine) throws Exception {
        Result r = ChildJvmm.run(List.of("-Xlog:class+load=info"), false, commandLine.split(" "));
        assertTrue(r.out().contains("[class,load]"), "class loading is logged: " + r.err());
        assertTrue(r.code() >= 0 && r.code() <= 3, "ran to an answer: " + r.code() + r.err());
        List<String> proxies =
                r.out().lines().filter(l -> l.contains("__dynamic_proxy__")).toList();
        assertEquals(List.of(), proxies, "proxy classes defined by jvmm " + commandLine);
    }

    /**
     * {@code --log-level debug} splits a start into its steps (bench/README.md uses it in the lab):
     * here up to reading the kernel, where a host without arm64 KVM stops.
     */
    @Test
    void debugLoggingTimesTheStartUpSteps(@TempDir Path tmp) throws Exception {
        Path kernel = rawKernel(tmp);
        Result r = runRawKernel(kernel, List.of(), "--log-level", "debug");
        assertTrue(r.err().matches("(?s).*start-up: command line parsed at \\d+ ms\n.*"), r.err());
        assertTrue(
                r.err().matches("(?s).*start-up: kernel and initrd read at \\d+ ms\n.*"), r.err());
        Result quiet = runRawKernel(kernel, List.of());
        assertFalse(quiet.err().contains("start-up:"), quiet.err());
    }

    /** A 4-byte raw kernel (a branch to itself) in {@code dir}. */
    private static Path rawKernel(Path dir) throws Exception {
        return Files.write(dir.resolve("raw.bin"), new byte[] {0, 0, 0, 0x14});
    }

    /**
     * {@code jvmm run -k KERNEL OPTIONS} in a child JVM with {@code jvmOptions}: the kernel is
     * read, then a host without arm64 KVM refuses the run.
     */
    private static Result runRawKernel(Path kernel, List<String> jvmOptions, String... options)
            throws Exception {
        List<String> args = new ArrayList<>(List.of("run", "-k", kernel.toString()));
        args.addAll(List.of(options));
        return ChildJvmm.run(jvmOptions, false, args.toArray(String[]::new));
    }

    /**
     * What a start leaves out (each measured in the lab's start-up): java.util.logging (the log is
     * {@link Logging}, the process's LoggerFinder), picocli's java.time and java.sql converters,
     * and the JDK's locale data (a first String.format %d). A {@code run} with a raw kernel goes
     * through parsing, logging at debug level and the kernel's read, up to the host check.
     */
    @Test
    void aStartInitialisesNoLoggingFrameworkDateTimeOrLocaleClasses(@TempDir Path tmp)
            throws Exception {
        Path kernel = rawKernel(tmp);
        Result r = runRawKernel(kernel, List.of("-Xlog:class+init=info"), "--log-level", "debug");
        assertTrue(r.out().contains("Initializing 'picocli/CommandLine'"), r.out());
        assertTrue(r.err().contains("jvmm: fine: start-up: command line parsed"), r.err());
        assertTrue(r.err().contains("jvmm: info: kernel " + kernel), r.err());
        List<String> unwanted =
                r.out()
                        .lines()
                        .filter(l -> l.contains("Initializing '"))
                        .filter(
                                l ->
                                        l.contains("'java/util/logging/")
                                                || l.contains("'java/time/format/")
                                                || l.contains("'java/sql/")
                                                || l.contains("'java/text/DecimalFormatSymbols"))
                        .toList();
        assertEquals(List.of(), unwanted);
    }

    /** The check above can see them: picocli's converters without the exclusion. */
    @Test
    void theInitialisationCheckSeesPicocliDateTimeConverters() throws Exception {
        Result r =
                ChildJvmm.run(
                        List.of("-Xlog:class+init=info", "-D" + Main.CONVERTER_EXCLUDES + "=none"),
                        false,
                        "--version");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Initializing 'java/time/format/DateTimeFormatter'"), r.out());
    }

    /** The check above can fail: picocli's own help command is read from its annotations. */
    @Test
    void theProxyCheckSeesAnnotationsRead() throws Exception {
        Result help = ChildJvmm.run(List.of("-Xlog:class+load=info"), false, "help", "caps");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().contains("__dynamic_proxy__"), "annotations read by help");
    }

    /**
     * Every visible command and subcommand answers {@code --help} and {@code -V}: a usage error
     * ends with "(see: jvmm ctl snapshot --help)", which must then work.
     */
    @Test
    void everyCommandHasHelpAndVersion() {
        List<List<String>> paths = new ArrayList<>();
        commandPaths(Main.fullCommandLine(), List.of(), paths);
        assertTrue(paths.size() >= 12, "run, caps, ctl and its 9 commands: " + paths);
        for (List<String> path : paths) {
            List<String> help = new ArrayList<>(path);
            help.add("--help");
            Result h = run(help.toArray(String[]::new));
            String name = String.join(" ", path);
            assertEquals(0, h.code(), name + " --help: " + h.err());
            assertTrue(h.out().startsWith("Usage: jvmm " + name + " "), h.out());
            List<String> version = new ArrayList<>(path);
            version.add("-V");
            Result v = run(version.toArray(String[]::new));
            assertEquals(0, v.code(), name + " -V: " + v.err());
            assertTrue(v.out().startsWith("jvmm "), name + " -V: " + v.out());
        }
    }

    /** The names leading to every visible command but the top level and picocli's help. */
    private static void commandPaths(
            picocli.CommandLine cl, List<String> path, List<List<String>> into) {
        for (var e : cl.getSubcommands().entrySet()) {
            var spec = e.getValue().getCommandSpec();
            if (spec.usageMessage().hidden() || e.getKey().equals("help")) continue;
            List<String> sub = new ArrayList<>(path);
            sub.add(e.getKey());
            into.add(sub);
            commandPaths(e.getValue(), sub, into);
        }
    }

    @Test
    void helpListsCommandsAndTheExitCodeContract() {
        Result r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("caps"));
        for (String code : new String[] {"32", "33", "34", "124", "128+N"}) {
            assertTrue(r.out().contains(code), "exit code " + code + " missing from --help");
        }
        assertTrue(run("caps", "--help").out().contains("Exit codes:"));
    }

    @Test
    void unknownOptionIsAUsageError() {
        Result r = run("caps", "--bogus");
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("--bogus"), r.err());
        assertFalse(
                r.err().strip().contains("\n"), "one line, not the whole usage text: " + r.err());
    }

    @Test
    void noCommandIsAUsageError() {
        assertEquals(ExitCodes.USAGE, run().code());
    }

    @Test
    void capsWithoutArm64KvmIsOneLineAndItsOwnCode() {
        assumeTrue(Arm64KvmCondition.unavailableReason() != null, "this host has arm64 KVM");
        Result r = run("caps");
        assertEquals(ExitCodes.KVM_UNAVAILABLE, r.code());
        assertEquals("", r.out());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), "one line: " + r.err());
        assertFalse(line.contains("Exception"), line);
        assertTrue(line.contains("./lab run -- jvmm"), "says what to do: " + line);
    }

    @Test
    void aCommandRunsWithOnlyItsOwnModelBuilt() {
        assertEquals(
                List.of("run"),
                List.copyOf(
                        Main.commandLine(new String[] {"run", "-k", "x"})
                                .getSubcommands()
                                .keySet()));
        assertEquals(
                List.of("ctl"),
                List.copyOf(
                        Main.commandLine(new String[] {"ctl", "stop"}).getSubcommands().keySet()));
        assertEquals(
                List.of(),
                List.copyOf(
                        Main.commandLine(new String[] {"--version"}).getSubcommands().keySet()));
        assertEquals(
                List.of("run", "caps", "ctl", "aot-train", "help"),
                List.copyOf(Main.fullCommandLine().getSubcommands().keySet()));
    }

    @Test
    void theTreeArgumentsNeedAnswersAsTheWholeTreeDoes() throws Exception {
        Path argfile = Files.createTempFile("jvmm-args", ".txt");
        try {
            Files.writeString(argfile, "run\n--help\n");
            String[][] cases = {
                {},
                {"--version"},
                {"-V"},
                {"--help"},
                {"--bogus"},
                {"--version", "run"},
                {"help"},
                {"help", "run"},
                {"help", "ctl"},
                {"nosuchcommand"},
                {"run"},
                {"run", "--help"},
                {"run", "--bogus"},
                {"run", "-k"},
                {"run", "-k", "/nonexistent/jvmm-kernel", "-m", "lots"},
                {"run", "-k", "/nonexistent/jvmm-kernel", "--hypercalls", "-nosuch"},
                {"run", "-k", "/nonexistent/jvmm-kernel"},
                {"run", "caps"},
                {"caps", "--help"},
                {"caps", "--bogus"},
                {"ctl"},
                {"ctl", "--help"},
                {"ctl", "status", "--help"},
                {"ctl", "sdei-signal", "x", "--socket", "/nonexistent/jvmm.sock"},
                {"@" + argfile},
                {"run", "@" + argfile},
            };
            for (String[] args : cases) {
                StringWriter out = new StringWriter(), err = new StringWriter();
                int code =
                        Main.execute(
                                Main::fullCommandLine,
                                args,
                                new PrintWriter(out, true),
                                new PrintWriter(err, true));
                Result r = run(args);
                String what = String.join(" ", args);
                assertEquals(code, r.code(), what);
                assertEquals(out.toString(), r.out(), what);
                assertEquals(err.toString(), r.err(), what);
            }
        } finally {
            Files.delete(argfile);
        }
    }
}
