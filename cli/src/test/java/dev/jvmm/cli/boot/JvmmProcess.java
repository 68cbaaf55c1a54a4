package dev.jvmm.cli.boot;

import dev.jvmm.kvm.testing.Arm64KvmCondition;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code jvmm} as a user runs it: a separate JVM (the lab's launcher, see {@link #jvmmCommand()})
 * with stdin from /dev/null, stdout and stderr captured as they arrive. Every wait is bounded;
 * {@link #close()} kills a process that is still alive, so no test leaves a VM behind.
 */
final class JvmmProcess implements AutoCloseable {
    /**
     * What a finished run left: exit code, console (stdout), jvmm's messages (stderr), wall time.
     */
    record Result(int code, String out, String err, Duration elapsed) {
        /** For assertion messages: everything a failure needs to be diagnosed from the report. */
        String describe() {
            return "exit "
                    + code
                    + " after "
                    + elapsed.toMillis()
                    + " ms\n--- stdout ---\n"
                    + out
                    + "\n--- stderr ---\n"
                    + err;
        }
    }

    private final Process process;
    private final long startNanos;
    private final Capture out, err;

    private JvmmProcess(Process process, long startNanos, boolean readStdout) {
        this.process = process;
        this.startNanos = startNanos;
        this.out = readStdout ? new Capture(process.getInputStream(), "jvmm-test-stdout") : null;
        this.err = new Capture(process.getErrorStream(), "jvmm-test-stderr");
    }

    /** Starts {@code jvmm ARGS...} with stdin from /dev/null. */
    static JvmmProcess start(String... args) {
        return start(List.of(), false, args);
    }

    /**
     * Starts {@code jvmm ARGS...}; with {@code pipeStdin} the test feeds its stdin through {@link
     * #input}.
     */
    static JvmmProcess start(boolean pipeStdin, String... args) {
        return start(List.of(), pipeStdin, args);
    }

    /**
     * Starts {@code PREFIX... java ... jvmm ARGS...}: a prefix such as {@code prlimit
     * --memlock=...} or {@code setpriv ...} that execs the JVM, so the process (and {@link #pid()})
     * is still jvmm's.
     */
    static JvmmProcess start(List<String> prefix, String... args) {
        return start(prefix, false, args);
    }

    /**
     * Starts {@code jvmm ARGS...} with its stdout a pipe nobody ever reads (a stalled console
     * reader: the pipe fills after 64 KiB); {@link #stdout()} is then always empty.
     */
    static JvmmProcess startWithStdoutUnread(boolean pipeStdin, String... args) {
        return start(List.of(), pipeStdin, false, args);
    }

    private static JvmmProcess start(List<String> prefix, boolean pipeStdin, String... args) {
        return start(prefix, pipeStdin, true, args);
    }

    private static JvmmProcess start(
            List<String> prefix, boolean pipeStdin, boolean readStdout, String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(jvmmCommand());
        cmd.addAll(List.of(args));
        ProcessBuilder pb =
                new ProcessBuilder(cmd)
                        .redirectInput(
                                pipeStdin
                                        ? ProcessBuilder.Redirect.PIPE
                                        : ProcessBuilder.Redirect.from(new File("/dev/null")));
        long t0 = System.nanoTime();
        try {
            return new JvmmProcess(pb.start(), t0, readStdout);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    /** Runs {@code jvmm ARGS...} to the end, killing it (and failing) after {@code limit}. */
    static Result run(Duration limit, String... args) {
        return run(limit, List.of(), args);
    }

    /**
     * {@link #run(Duration, String...)} behind a command prefix (see {@link #start(List,
     * String...)}).
     */
    static Result run(Duration limit, List<String> prefix, String... args) {
        try (JvmmProcess p = start(prefix, args)) {
            return p.waitFor(limit);
        }
    }

    Process process() {
        return process;
    }

    long pid() {
        return process.pid();
    }

    /** Console output so far. */
    String stdout() {
        return out == null ? "" : out.text();
    }

    /** jvmm's resident set (VmRSS in /proc/PID/status), in KiB. */
    long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
            if (line.startsWith("VmRSS:"))
                return Long.parseLong(line.substring(6).replace("kB", "").trim());
        }
        throw new IllegalStateException("no VmRSS for pid " + pid());
    }

    /** What each of jvmm's descriptors names, one per line, for failure messages. */
    String fdTargets() throws IOException {
        StringBuilder b = new StringBuilder();
        try (var s = Files.list(Path.of("/proc", Long.toString(pid()), "fd"))) {
            for (Path fd : s.sorted().toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) { // closed since the listing
                    target = "(gone)";
                }
                b.append(fd.getFileName()).append(" -> ").append(target).append('\n');
            }
        }
        return b.toString();
    }

    /** How many file descriptors jvmm has open (/proc/PID/fd). */
    int openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc", Long.toString(pid()), "fd"))) {
            return (int) s.count();
        }
    }

    /**
     * Shrinks the pipe on jvmm's stdout to {@code bytes} (rounded up to a page by the kernel) with
     * fcntl(F_SETPIPE_SZ) on this process's read end, found as the fd naming the same pipe inode as
     * jvmm's fd 1. A small pipe is a stalled reader reached quickly, even by a guest that writes
     * slowly.
     *
     * @return the pipe's new size
     */
    int shrinkStdoutPipe(int bytes) throws IOException {
        String pipe =
                Files.readSymbolicLink(Path.of("/proc", Long.toString(pid()), "fd", "1"))
                        .toString();
        if (!pipe.startsWith("pipe:"))
            throw new IllegalStateException("jvmm's stdout is not a pipe: " + pipe);
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue; // closed since the listing
                }
                if (!target.equals(pipe)) continue;
                int n = Fcntl.setPipeSize(Integer.parseInt(fd.getFileName().toString()), bytes);
                if (n < bytes)
                    throw new IllegalStateException(
                            "F_SETPIPE_SZ(" + bytes + ") on " + pipe + ": " + n);
                return n;
            }
        }
        throw new IllegalStateException("no fd of this process reads " + pipe);
    }

    /**
     * Bytes waiting unread in jvmm's stdout pipe (FIONREAD); a full pipe means jvmm's writes block.
     */
    int stdoutPending() throws IOException {
        return process.getInputStream().available();
    }

    /** fcntl(2) through the FFM API (the tests run with native access, as jvmm does). */
    private static final class Fcntl {
        private static final int F_SETPIPE_SZ = 1031;
        private static final java.lang.invoke.MethodHandle FCNTL;

        static {
            java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
            FCNTL =
                    linker.downcallHandle(
                            linker.defaultLookup().find("fcntl").orElseThrow(),
                            java.lang.foreign.FunctionDescriptor.of(
                                    java.lang.foreign.ValueLayout.JAVA_INT,
                                    java.lang.foreign.ValueLayout.JAVA_INT,
                                    java.lang.foreign.ValueLayout.JAVA_INT,
                                    java.lang.foreign.ValueLayout.JAVA_INT),
                            java.lang.foreign.Linker.Option.firstVariadicArg(2));
        }

        static int setPipeSize(int fd, int bytes) {
            try {
                return (int) FCNTL.invokeExact(fd, F_SETPIPE_SZ, bytes);
            } catch (Throwable t) {
                throw new IllegalStateException("fcntl", t);
            }
        }
    }

    /** jvmm's stdin, started with {@code pipeStdin}: for feeding the console in bulk. */
    java.io.OutputStream stdin() {
        return process.getOutputStream();
    }

    String stderr() {
        return err.text();
    }

    /**
     * Waits until stdout contains {@code needle}; false if the process ended or {@code limit}
     * passed first.
     */
    boolean awaitStdout(String needle, Duration limit) throws InterruptedException {
        return awaitStdout(needle, 1, limit);
    }

    /**
     * Waits until stdout contains {@code needle} at least {@code times} times; false if the process
     * ended or {@code limit} passed first.
     */
    boolean awaitStdout(String needle, int times, Duration limit) throws InterruptedException {
        if (out == null) throw new IllegalStateException("stdout is not read in this run");
        return out.await(needle, times, System.nanoTime() + limit.toNanos());
    }

    /**
     * Waits for the exit and the end of both streams; past {@code limit} kills the process and
     * throws.
     */
    Result waitFor(Duration limit) {
        try {
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(
                        "jvmm did not exit within "
                                + limit.toSeconds()
                                + " s (killed it)\n--- stdout ---\n"
                                + stdout()
                                + "\n--- stderr ---\n"
                                + stderr());
            }
            Duration elapsed = Duration.ofNanos(System.nanoTime() - startNanos);
            if (out != null) out.join();
            err.join();
            return new Result(process.exitValue(), stdout(), stderr(), elapsed);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Writes {@code text} to jvmm's stdin (the console input), started with {@code pipeStdin}. */
    void input(String text) throws IOException {
        process.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().flush();
    }

    /** Sends a signal the way a user would, with kill(1). */
    void signal(String name) throws IOException, InterruptedException {
        Process kill =
                new ProcessBuilder("kill", "-" + name, Long.toString(pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -" + name + " " + pid() + " failed");
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A guest image from JVMM_IMAGES (Image, initramfs.gz, hello.img, spin.img, reset.img). */
    static String image(String name) {
        Path p = Arm64KvmCondition.images().resolve(name);
        if (!Files.isRegularFile(p)) throw new IllegalStateException("guest image missing: " + p);
        return p.toString();
    }

    /** The test initramfs's {@code jvmm.cmd=BASE64} kernel parameter for a shell command line. */
    static String guestCommand(String shellCommand) {
        return "jvmm.cmd="
                + Base64.getEncoder().encodeToString(shellCommand.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Arguments that boot the stock Debian kernel and the test initramfs (256 MiB, quiet) and have
     * the initramfs run {@code shellCommand}; {@code extra} options follow.
     */
    static String[] debian(String shellCommand, String... extra) {
        List<String> args =
                new java.util.ArrayList<>(
                        List.of(
                                "run",
                                "-k",
                                image("Image"),
                                "-i",
                                image("initramfs.gz"),
                                "-m",
                                "256",
                                "-p",
                                "quiet " + guestCommand(shellCommand)));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    /**
     * How jvmm is started. {@code ./lab test} sets {@code JVMM_TEST_LAUNCHER} to the lab's {@code
     * jvmm} command (the launcher users run: the freshly packaged jar, the launcher's JVM flags and
     * its AOT cache, which the lab creates before the tests start), so each of the tiers' ~150 jvmm
     * starts costs what a user's does. Without it (an IDE, a hand-run console launcher) the child
     * runs from this JVM's class path, so it can never run a jar older than the tests' classes.
     */
    static List<String> jvmmCommand() {
        String launcher = System.getenv("JVMM_TEST_LAUNCHER");
        if (launcher != null && !launcher.isEmpty()) return List.of("sh", launcher);
        return List.of(
                javaBinary(),
                "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-cp",
                classPath(),
                "dev.jvmm.cli.Main");
    }

    /** The java binary running this test (so the child runs on the same JDK). */
    private static String javaBinary() {
        return ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /**
     * This JVM's class path: {@code java.class.path}, plus the URLs of any URLClassLoader above
     * this class. The JUnit console launcher ({@code ./lab test}) runs as {@code -jar launcher.jar}
     * and loads the modules' classes through such a loader, so java.class.path alone is just the
     * launcher.
     */
    static String classPath() {
        Set<String> entries = new LinkedHashSet<>();
        for (String e : System.getProperty("java.class.path", "").split(File.pathSeparator, -1)) {
            if (!e.isEmpty()) entries.add(Path.of(e).toAbsolutePath().toString());
        }
        for (ClassLoader cl = JvmmProcess.class.getClassLoader(); cl != null; cl = cl.getParent()) {
            if (cl instanceof URLClassLoader u) {
                for (URL url : u.getURLs()) {
                    try {
                        if ("file".equals(url.getProtocol()))
                            entries.add(Path.of(url.toURI()).toString());
                    } catch (URISyntaxException e) {
                        throw new IllegalStateException(url.toString(), e);
                    }
                }
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    /** Drains one stream on a daemon thread, keeping every byte; waiters are woken on each read. */
    private static final class Capture {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;
        private boolean ended;

        Capture(InputStream in, String name) {
            thread =
                    Thread.ofPlatform()
                            .daemon()
                            .name(name)
                            .start(
                                    () -> {
                                        byte[] buf = new byte[4096];
                                        try (in) {
                                            for (int n; (n = in.read(buf)) > 0; ) {
                                                synchronized (this) {
                                                    bytes.write(buf, 0, n);
                                                    notifyAll();
                                                }
                                            }
                                        } catch (IOException ignored) {
                                            // the process was killed; what arrived is kept
                                        } finally {
                                            synchronized (this) {
                                                ended = true;
                                                notifyAll();
                                            }
                                        }
                                    });
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }

        synchronized boolean await(String needle, int times, long deadlineNanos)
                throws InterruptedException {
            while (occurrences(text(), needle) < times) {
                long left = deadlineNanos - System.nanoTime();
                if (ended || left <= 0) return false;
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }

        private static int occurrences(String text, String needle) {
            int n = 0;
            for (int i = text.indexOf(needle);
                    i >= 0;
                    i = text.indexOf(needle, i + needle.length())) n++;
            return n;
        }

        void join() throws InterruptedException {
            if (!thread.join(Duration.ofSeconds(10)))
                throw new AssertionError(thread.getName() + " did not reach EOF");
        }
    }
}
