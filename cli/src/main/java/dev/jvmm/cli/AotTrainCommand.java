package dev.jvmm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code jvmm aot-train} (hidden): the training run that {@code jvmm-launch.sh} records the AOT
 * cache from. It goes through what users run: the help, version and parsing of a typical {@code
 * run} command line, {@code caps}, and where /dev/kvm runs arm64 guests a real {@code run} of
 * {@link TrainingGuest} past its first {@code KVM_RUN}, then a snapshot and a restore of its idle
 * variant over the control socket. Everything goes through {@link Main#execute} with null writers;
 * the exit code is that of the guest run (0 where there is none).
 *
 * <p>{@code aot-train --cli} trains only the version and help: the launcher keeps a second, smaller
 * cache for those commands, since the JVM loads every class a cache holds as it starts (a cache
 * trained on {@code --version} alone made it 0.1-0.5 s faster in the lab than the full one).
 */
final class AotTrainCommand implements Callable<Integer> {
    private static final Path KVM = Path.of("/dev/kvm");

    private CommandSpec spec;
    private boolean cliOnly;

    /** Its model (built in code: {@link CliModel}); hidden from help and documentation. */
    static CommandSpec model() {
        AotTrainCommand c = new AotTrainCommand();
        c.spec =
                CliModel.command(
                        c, "aot-train", "Training run for the AOT cache (used by the launcher).");
        c.spec.addOption(
                CliModel.flag(
                        () -> c.cliOnly,
                        v -> c.cliOnly = v,
                        OptionSpec.builder("--cli")
                                .description(
                                        "Only the version and help (the launcher's cache for them).")));
        c.spec.usageMessage().hidden(true);
        return c.spec;
    }

    @Override
    public Integer call() throws IOException {
        if (cliOnly) {
            quietly("--version");
            quietly("--help");
            return ExitCodes.GUEST_POWEROFF;
        }
        Path dir = Files.createTempDirectory("jvmm-aot-train");
        try {
            Path kernel = Files.write(dir.resolve("train.img"), TrainingGuest.image());
            Path disk = Files.write(dir.resolve("disk.img"), new byte[64 * 1024]);
            List<String> typical =
                    new ArrayList<>(
                            List.of(
                                    "run",
                                    "-k",
                                    kernel.toString(),
                                    "-c",
                                    "1",
                                    "-m",
                                    "64M",
                                    "-p",
                                    "quiet",
                                    "--serial",
                                    "none",
                                    "--timeout",
                                    "2m",
                                    "--rng",
                                    "-d",
                                    "path=" + disk + ",ro=on"));
            quietly("--version");
            quietly("--help");
            List<String> help = new ArrayList<>(typical);
            help.add("--help"); // parses and converts every value above, then renders the help
            quietly(help.toArray(String[]::new));
            if (!canRunArm64Guests()) return ExitCodes.GUEST_POWEROFF;
            quietly("caps");
            int code =
                    Main.execute(
                            typical.toArray(String[]::new),
                            nullWriter(),
                            spec.commandLine().getErr());
            if (!snapshotAndRestore(dir))
                spec.commandLine()
                        .getErr()
                        .println(
                                "jvmm aot-train: the snapshot and restore step did not complete;"
                                        + " the cache covers less");
            return code;
        } finally {
            try (var files = Files.walk(dir)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList())
                    Files.deleteIfExists(f);
            }
        }
    }

    /**
     * A restore runs code no boot does (the snapshot's JSON, the checks, the parts' restore): the
     * idle guest is snapshotted with {@code ctl snapshot --stop} and restored, then stopped with
     * {@code ctl stop}, so that code is in the cache too (restore-bench: reading the snapshot cold
     * took ~1.9 s of a 7.2 s restore in the lab). Every wait is bounded; a failure here only makes
     * the cache cover less.
     */
    private static boolean snapshotAndRestore(Path dir) {
        Path snap = dir.resolve("snapshot");
        Path first = dir.resolve("run.sock"), second = dir.resolve("restore.sock");
        String[] run = {
            "run",
            "-k",
            dir.resolve("idle.img").toString(),
            "-m",
            "64M",
            "--serial",
            "none",
            "--timeout",
            "2m",
            "--api-socket",
            first.toString()
        };
        String[] restore = {
            "run",
            "--restore",
            snap.toString(),
            "--serial",
            "none",
            "--timeout",
            "2m",
            "--api-socket",
            second.toString()
        };
        try {
            Files.write(dir.resolve("idle.img"), TrainingGuest.idleImage());
            return runWhile(run, first, "snapshot", "--dir", snap.toString(), "--stop")
                    && runWhile(restore, second, "stop");
        } catch (IOException | InterruptedException e) {
            return false; // the cache covers less; the training's own result stands
        }
    }

    /** Runs {@code run} on a thread, sends {@code ctl} once its socket answers, waits for it. */
    private static boolean runWhile(String[] run, Path socket, String... ctl)
            throws InterruptedException {
        AtomicInteger runCode = new AtomicInteger(-1);
        Thread vm = Thread.ofPlatform().name("aot-train-vm").start(() -> runCode.set(quietly(run)));
        String[] status = {"ctl", "--socket", socket.toString(), "status"};
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        boolean up = false;
        while (!up && vm.isAlive() && System.nanoTime() < deadline) {
            up = Files.exists(socket) && quietly(status) == 0;
            if (!up) Thread.sleep(50);
        }
        int ctlCode = -1;
        if (up) {
            String[] command = new String[3 + ctl.length];
            command[0] = "ctl";
            command[1] = "--socket";
            command[2] = socket.toString();
            System.arraycopy(ctl, 0, command, 3, ctl.length);
            ctlCode = quietly(command);
        }
        // --timeout 2m ends the run in any case
        return vm.join(Duration.ofMinutes(3)) && ctlCode == 0 && runCode.get() == 0;
    }

    private static int quietly(String... args) {
        return Main.execute(args, nullWriter(), nullWriter());
    }

    private static PrintWriter nullWriter() {
        return new PrintWriter(Writer.nullWriter());
    }

    private static boolean canRunArm64Guests() {
        return "aarch64".equals(System.getProperty("os.arch"))
                && Files.isReadable(KVM)
                && Files.isWritable(KVM);
    }
}
