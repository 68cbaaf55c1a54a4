package dev.jvmm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code jvmm aot-train} (hidden): the training run that {@code jvmm-launch.sh} records the AOT
 * cache from. It goes through what users run: the help, version and parsing of a typical {@code
 * run} command line, {@code caps}, and where /dev/kvm runs arm64 guests a real {@code run} of
 * {@link TrainingGuest} past its first {@code KVM_RUN}. Everything goes through {@link
 * Main#execute} with null writers; the exit code is that of the guest run (0 where there is none).
 */
@Command(
        name = "aot-train",
        hidden = true,
        description = "Training run for the AOT cache (used by the launcher).")
final class AotTrainCommand implements Callable<Integer> {
    private static final Path KVM = Path.of("/dev/kvm");

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws IOException {
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
            return Main.execute(
                    typical.toArray(String[]::new), nullWriter(), spec.commandLine().getErr());
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void quietly(String... args) {
        Main.execute(args, nullWriter(), nullWriter());
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
