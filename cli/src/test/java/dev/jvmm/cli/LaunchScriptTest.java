package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cli/src/main/dist/jvmm-launch.sh}, the one launcher every way of starting jvmm execs, run
 * by {@code sh} against a stand-in {@code java} that logs each call's arguments and, when asked for
 * {@code -XX:AOTCacheOutput=F}, writes F as the JDK would: the AOT cache is created once per jar,
 * runtime and flag set, used after that, and its absence is never an error.
 */
class LaunchScriptTest {
    private static final Path SCRIPT = Path.of("src", "main", "dist", "jvmm-launch.sh");

    @TempDir Path dir;
    Path jdk, java, calls, jar, aot;

    record Result(int code, String out, String err, List<String> calls) {}

    @BeforeEach
    void fakeRuntime() throws IOException {
        jdk = dir.resolve("jdk");
        Files.createDirectories(jdk.resolve("bin"));
        Files.createDirectories(jdk.resolve("lib/server"));
        Files.writeString(jdk.resolve("lib/server/libjvm.so"), "libjvm");
        release("25.0.5");
        calls = dir.resolve("calls");
        java = jdk.resolve("bin/java");
        Files.writeString(
                java,
                """
                #!/bin/sh
                echo "$*" >> "$FAKE_CALLS"
                for a in "$@"; do
                  case $a in
                    -XX:AOTCacheOutput=*) [ -n "$FAKE_NO_CACHE" ] || echo cache > "${a#*=}"; exit 0 ;;
                  esac
                done
                echo ran
                """);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        jar = Files.writeString(dir.resolve("jvmm.jar"), "jar v1");
        aot = dir.resolve("aot");
    }

    private void release(String version) throws IOException {
        Files.writeString(
                jdk.resolve("release"),
                "JAVA_VERSION=\"" + version + "\"\nJAVA_RUNTIME_VERSION=\"" + version + "+1\"\n");
    }

    private Result launch(Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 2];
        cmd[0] = "sh";
        cmd[1] = SCRIPT.toString();
        System.arraycopy(args, 0, cmd, 2, args.length);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("JVMM_JAVA_OPTS");
        pb.environment().remove("JVMM_AOT");
        pb.environment().put("JVMM_JAR", jar.toString());
        pb.environment().put("JAVA", java.toString());
        pb.environment().put("JVMM_AOT_DIR", aot.toString());
        pb.environment().put("FAKE_CALLS", calls.toString());
        pb.environment().putAll(env);
        Files.deleteIfExists(calls);
        Process p = pb.start();
        p.getOutputStream().close();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "launcher did not finish");
        return new Result(
                p.exitValue(),
                new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8),
                Files.exists(calls) ? Files.readAllLines(calls) : List.of());
    }

    private Result launch(String... args) throws IOException, InterruptedException {
        return launch(Map.of(), args);
    }

    private List<Path> caches() throws IOException {
        if (!Files.isDirectory(aot)) return List.of();
        try (Stream<Path> s = Files.list(aot)) {
            return s.filter(f -> f.getFileName().toString().matches("jvmm-[0-9a-f]{16}\\.aot"))
                    .sorted()
                    .toList();
        }
    }

    @Test
    void firstCallTrainsOnceThenEveryCallUsesTheCache() throws Exception {
        Result first = launch("run", "-k", "a file");
        assertEquals(0, first.code(), first.err());
        assertEquals("ran\n", first.out());
        List<Path> made = caches();
        assertEquals(1, made.size(), "one cache: " + made);
        String cache = made.get(0).toString();
        assertEquals(2, first.calls().size(), "training, then the command: " + first.calls());
        String training = first.calls().get(0);
        assertTrue(training.contains("-XX:AOTCacheOutput="), training);
        assertTrue(training.endsWith("-jar " + jar + " aot-train"), training);
        assertFalse(training.contains(cache), "written under a temporary name: " + training);
        assertTrue(
                first.calls().get(1).contains("-XX:AOTCache=" + cache + " -jar " + jar + " run -k"),
                first.calls().get(1));
        assertEquals(1, first.err().lines().count(), "one line on stderr: " + first.err());
        assertTrue(first.err().contains("creating the AOT cache " + cache), first.err());

        Result second = launch("caps");
        assertEquals(0, second.code());
        assertEquals("", second.err());
        assertEquals(1, second.calls().size(), second.calls().toString());
        assertTrue(second.calls().get(0).contains("-XX:AOTCache=" + cache), second.calls().get(0));
        assertEquals(made, caches());
    }

    /**
     * A PATH whose sha256sum logs each call to {@code hashes} before hashing: the launcher hashes
     * the jar only when its memo does not match (the hash costs ~0.2 s in the lab).
     */
    private Map<String, String> countingHashes(Path hashes, Map<String, String> more)
            throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path fake = bin.resolve("sha256sum");
        Files.writeString(
                fake,
                "#!/bin/sh\necho hash >> \"" + hashes + "\"\nexec /usr/bin/sha256sum \"$@\"\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> env = new java.util.HashMap<>(more);
        env.put("PATH", bin + ":" + System.getenv("PATH"));
        return env;
    }

    @Test
    void theKeyIsMemoisedPerJarAndFollowsTheFlags() throws Exception {
        Path hashes = dir.resolve("hashes");
        Map<String, String> plain = countingHashes(hashes, Map.of());
        Map<String, String> other = countingHashes(hashes, Map.of("JVMM_JAVA_OPTS", "-Xmn4m"));
        assertEquals(0, launch(plain, "caps").code());
        long afterFirst = Files.readAllLines(hashes).size();
        assertTrue(afterFirst >= 1, "the first call hashes the jar");
        assertEquals(0, launch(plain, "caps").code());
        assertEquals(afterFirst, Files.readAllLines(hashes).size(), "the memo spared the hash");
        // other flags: another key and cache, even though the memo is the same jar's
        Result withOther = launch(other, "caps");
        assertEquals(2, caches().size(), caches().toString());
        assertTrue(withOther.calls().get(withOther.calls().size() - 1).contains("-Xmn4m"));
        // back to the first flags: the first cache, no new training
        Result back = launch(plain, "caps");
        assertEquals(1, back.calls().size(), back.calls().toString());
        assertTrue(
                back.calls().get(0).contains("-XX:AOTCache=" + caches().get(0))
                        || back.calls().get(0).contains("-XX:AOTCache=" + caches().get(1)));
        assertFalse(back.calls().get(0).contains("-Xmn4m"), back.calls().get(0));
    }

    @Test
    void versionAndHelpHaveASmallCacheOfTheirOwn() throws Exception {
        Result version = launch("--version");
        assertEquals(0, version.code(), version.err());
        assertEquals(2, version.calls().size(), version.calls().toString());
        assertTrue(
                version.calls().get(0).endsWith("-jar " + jar + " aot-train --cli"),
                version.calls().get(0));
        List<Path> cli = cliCaches();
        assertEquals(1, cli.size(), cli.toString());
        assertEquals(List.of(), caches(), "no full cache for --version");
        for (String[] args : new String[][] {{"--help"}, {"help", "run"}, {"-V"}, {}}) {
            Result r = launch(args);
            assertEquals(1, r.calls().size(), "no new training: " + r.calls());
            assertTrue(r.calls().get(0).contains("-XX:AOTCache=" + cli.get(0)), r.calls().get(0));
        }
        // any other command: the full cache, trained on the full training run
        Result run = launch("run", "--version");
        assertEquals(2, run.calls().size(), run.calls().toString());
        assertTrue(run.calls().get(0).endsWith(" aot-train"), run.calls().get(0));
        assertEquals(1, caches().size());
        assertEquals(cli, cliCaches());
    }

    private List<Path> cliCaches() throws IOException {
        try (Stream<Path> s = Files.list(aot)) {
            return s.filter(f -> f.getFileName().toString().matches("jvmm-[0-9a-f]{16}-cli\\.aot"))
                    .toList();
        }
    }

    @Test
    void theLaunchersFlagsComeFirstAndTheUsersAfterThem() throws Exception {
        Result r = launch(Map.of("JVMM_AOT", "off", "JVMM_JAVA_OPTS", "-Xmx1g -Dx=y"), "caps");
        assertEquals(1, r.calls().size());
        String call = r.calls().get(0);
        assertTrue(call.startsWith("-XX:TieredStopAtLevel=1 "), call);
        assertTrue(call.endsWith(" -Xmx1g -Dx=y -jar " + jar + " caps"), call);
        assertFalse(call.contains("AOT"), call);
    }

    @Test
    void aNewJarRuntimeOrFlagSetGetsItsOwnCache() throws Exception {
        launch("caps");
        Files.writeString(jar, "jar v2"); // same size, new content
        Result newJar = launch("caps");
        assertTrue(newJar.err().contains("creating the AOT cache"), newJar.err());
        Result flags = launch(Map.of("JVMM_JAVA_OPTS", "-XX:+UseCompactObjectHeaders"), "x");
        assertTrue(flags.err().contains("creating the AOT cache"), flags.err());
        release("25.0.6");
        Result runtime = launch("caps");
        assertTrue(runtime.err().contains("creating the AOT cache"), runtime.err());
        assertEquals(4, caches().size(), caches().toString());
    }

    /**
     * The JVM refuses a cache whose jar has another mtime or path than at training ("timestamp has
     * changed"), silently under the launcher's logging: a rebuild that reproduces the same bytes
     * left every later start without its cache.
     */
    @Test
    void aJarRebuiltWithTheSameBytesOrMovedGetsItsOwnCache() throws Exception {
        launch("caps");
        Files.setLastModifiedTime(
                jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 5_000));
        Result rebuilt = launch("caps");
        assertTrue(rebuilt.err().contains("creating the AOT cache"), rebuilt.err());
        Path moved =
                Files.copy(jar, dir.resolve("elsewhere.jar"), StandardCopyOption.COPY_ATTRIBUTES);
        Result elsewhere = launch(Map.of("JVMM_JAR", moved.toString()), "caps");
        assertTrue(elsewhere.err().contains("creating the AOT cache"), elsewhere.err());
        assertEquals(3, caches().size(), caches().toString());
        Result again = launch("caps"); // the rebuilt jar's cache is found again
        assertEquals("", again.err());
        assertEquals(1, again.calls().size(), again.calls().toString());
    }

    @Test
    void anUnwritableCacheDirectoryRunsWithoutCacheAndWithoutComplaint() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "");
        Result r = launch(Map.of("JVMM_AOT_DIR", file.resolve("aot").toString()), "--version");
        assertEquals(0, r.code(), r.err());
        assertEquals("ran\n", r.out());
        assertEquals("", r.err());
        assertEquals(1, r.calls().size(), r.calls().toString());
        assertFalse(r.calls().get(0).contains("AOT"), r.calls().get(0));
    }

    @Test
    void aTrainingThatMakesNoCacheIsReportedOnceAndNotRetried() throws Exception {
        Result first = launch(Map.of("FAKE_NO_CACHE", "1"), "--version");
        assertEquals(0, first.code());
        assertEquals("ran\n", first.out());
        assertTrue(first.err().contains("could not create the AOT cache"), first.err());
        assertEquals(List.of(), caches());
        assertFalse(first.calls().get(1).contains("AOTCache"), first.calls().get(1));
        Result second = launch(Map.of("FAKE_NO_CACHE", "1"), "--version");
        assertEquals("", second.err());
        assertEquals(1, second.calls().size(), "no second training: " + second.calls());
    }

    @Test
    void aRuntimeOlderThan25GetsNoAotFlags() throws Exception {
        release("22.0.2");
        Result r = launch("--version");
        assertEquals(0, r.code(), r.err());
        assertEquals(1, r.calls().size(), r.calls().toString());
        assertFalse(r.calls().get(0).contains("AOT"), r.calls().get(0));
        assertEquals(List.of(), caches());
    }

    @Test
    void aMissingJarIsOneLineNamingIt() throws Exception {
        Files.delete(jar);
        Result r = launch("--version");
        assertEquals(1, r.code());
        assertEquals(List.of(), r.calls());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(jar.toString()), r.err());
    }

    @Test
    void noCacheDirectoryMeansNoCache() throws Exception {
        Result r = launch(Map.of("JVMM_AOT_DIR", ""), "--version");
        assertEquals(0, r.code());
        assertEquals(1, r.calls().size());
        assertNotEquals(true, Files.exists(aot));
    }
}
