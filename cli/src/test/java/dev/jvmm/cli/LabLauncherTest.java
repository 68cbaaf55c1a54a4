package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code jvmm} launcher inside the lab's L1 ({@code guest-images/lab/l1-bin/jvmm}) runs the
 * host's jar over the 9p share: when that jar was never built it must say so in one line, not let
 * Java print {@code Error: Unable to access jarfile}.
 */
class LabLauncherTest {
    private static final Path LAUNCHER = Path.of("..", "guest-images", "lab", "l1-bin", "jvmm");

    record Result(int code, String out, String err) {}

    private static Result launch(Path jar, String... args)
            throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 2];
        cmd[0] = "sh";
        cmd[1] = LAUNCHER.toString();
        System.arraycopy(args, 0, cmd, 2, args.length);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("JVMM_JAR", jar.toString());
        Process p = pb.start();
        p.getOutputStream().close();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "launcher did not finish");
        return new Result(
                p.exitValue(),
                new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void missingJarIsOneLineNamingItAndHowToBuildIt(@TempDir Path dir) throws Exception {
        Path jar = dir.resolve("cli/target/jvmm.jar");
        Result r = launch(jar, "--version");
        assertEquals(1, r.code(), r.err());
        assertEquals("", r.out());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), "one line: " + r.err());
        assertTrue(line.contains(jar.toString()), "names the jar: " + line);
        assertTrue(line.contains("./jvmm --version"), "says how to build it: " + line);
        assertFalse(line.contains("Unable to access jarfile"), "not Java's error: " + line);
    }

    @Test
    void presentJarIsRunWithTheArguments(@TempDir Path dir) throws Exception {
        // a jar that exists but is no jar at all: the launcher must hand it to java (whose own
        // complaint names it) rather than claim it is missing
        Path jar = Files.writeString(dir.resolve("jvmm.jar"), "not a zip");
        Result r = launch(jar, "--version");
        assertTrue(r.code() != 0, "java cannot run a broken jar");
        assertFalse(r.err().contains("./jvmm --version"), "the jar is there: " + r.err());
    }
}
