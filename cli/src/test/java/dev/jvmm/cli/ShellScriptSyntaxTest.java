package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every shell script in the repository parses ({@code sh -n}, or {@code bash -n} for a bash
 * shebang). Most of them run only in the lab or in benchmarks, where a syntax error shows up late:
 * an apostrophe in a comment inside a single-quoted awk program once broke {@code
 * bench/restore-bench-l1.sh} (busybox and dash: "unexpected word") and nothing else noticed.
 */
class ShellScriptSyntaxTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Set<String> SKIP = Set.of("target", ".lab", ".git", "node_modules");

    @Test
    void everyShellScriptParses() throws IOException, InterruptedException {
        List<Path> scripts = scripts();
        // the repository has ~40; fewer means the walk went wrong, not that all is well
        assertTrue(scripts.size() >= 30, "found only " + scripts);
        assertTrue(
                scripts.contains(ROOT.resolve("bench/restore-bench-l1.sh")), "walk missed bench");
        List<String> bad = new ArrayList<>();
        for (Path s : scripts) {
            String shell = firstLine(s).contains("bash") ? "bash" : "sh";
            Process p =
                    new ProcessBuilder(shell, "-n", s.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), shell + " -n " + s + " did not end");
            if (p.exitValue() != 0) bad.add(ROOT.relativize(s) + ": " + out.strip());
        }
        assertEquals(List.of(), bad);
    }

    /** Files named *.sh, and files whose first line is a shebang naming a shell. */
    private static List<Path> scripts() throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(ROOT)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (!Files.isRegularFile(p) || skipped(p)) continue;
                String name = p.getFileName().toString();
                String first = firstLine(p);
                boolean shebang =
                        first.startsWith("#!")
                                && (first.endsWith("sh") || first.matches("#!.*\\b(ba)?sh\\b.*"));
                if (name.endsWith(".sh") || shebang) out.add(p);
            }
        }
        return out;
    }

    private static boolean skipped(Path p) {
        for (Path part : ROOT.relativize(p)) if (SKIP.contains(part.toString())) return true;
        return false;
    }

    private static String firstLine(Path p) throws IOException {
        byte[] head = new byte[128];
        int n;
        try (var in = Files.newInputStream(p)) {
            n = in.read(head);
        }
        if (n <= 0) return "";
        String s = new String(head, 0, n, StandardCharsets.ISO_8859_1);
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
