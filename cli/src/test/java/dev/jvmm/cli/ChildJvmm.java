package dev.jvmm.cli;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code dev.jvmm.cli.Main} in a child JVM on this test's class path, for what cannot be seen
 * in process: JVM launch options (native access denied) and file permissions. As root, permission
 * checks are made real by dropping every capability (setpriv): uid 0 then gets only the owner bits,
 * like any user.
 */
final class ChildJvmm {
    private ChildJvmm() {}

    static MainTest.Result run(List<String> jvmOptions, boolean withoutPrivileges, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        if (withoutPrivileges && isRoot()) {
            assumeTrue(
                    Files.isExecutable(Path.of("/usr/bin/setpriv")),
                    "root without setpriv: cannot drop DAC override");
            cmd.addAll(List.of("/usr/bin/setpriv", "--bounding-set=-all", "--inh-caps=-all"));
        }
        cmd.add(
                ProcessHandle.current()
                        .info()
                        .command()
                        .orElse(
                                Path.of(System.getProperty("java.home"), "bin", "java")
                                        .toString()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("jvmm-child", ".out"),
                err = Files.createTempFile("jvmm-child", ".err");
        try {
            Process p =
                    new ProcessBuilder(cmd)
                            .redirectInput(
                                    ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                            .redirectOutput(out.toFile())
                            .redirectError(err.toFile())
                            .start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("child jvmm did not finish within 60 s: " + cmd);
            }
            return new MainTest.Result(
                    p.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static boolean isRoot() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
