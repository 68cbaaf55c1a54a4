package dev.jvmm.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jvmm.kvm.testing.Arm64KvmCondition;
import dev.jvmm.kvm.testing.BootTest;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * The Debian package as a user gets it: installed with dpkg, {@code /usr/bin/jvmm} boots the stock
 * kernel and test initramfs, the man pages and completion are where man and bash look, and a purge
 * removes the system AOT cache.
 *
 * <p>It installs into the system root, so it runs in the lab's L1 (a throwaway root rebuilt on
 * every boot, {@code JVMM_LAB=1}); on a native arm64 host only with {@code JVMM_DEB_INSTALL=1}.
 * L1's packages are extracted, not installed: its dpkg database is empty and it has busybox's dpkg,
 * so the install ignores Depends (PackageContentsTest checks that line; L1's OpenJDK 25 satisfies
 * it).
 */
@BootTest
class DebInstallBootTest {
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(4);

    @Test
    void theInstalledJvmmBootsTheStockKernelAndPurgeRemovesTheCache() throws Exception {
        assumeTrue(
                "1".equals(System.getenv("JVMM_LAB"))
                        || "1".equals(System.getenv("JVMM_DEB_INSTALL")),
                "installs the package into /: runs in the lab's L1 (./lab test), or natively with"
                        + " JVMM_DEB_INSTALL=1");
        Path deb = builtDeb();
        Files.createDirectories(Path.of("/var/lib/dpkg/info")); // an extracted root has none
        Result help = run(Duration.ofSeconds(30), "dpkg", "--help");
        boolean busybox = (help.out() + help.err()).contains("BusyBox");
        Result install =
                busybox
                        ? run(Duration.ofMinutes(5), "dpkg", "-i", "-F", "depends", deb.toString())
                        : run(
                                Duration.ofMinutes(5),
                                "dpkg",
                                "-i",
                                "--force-depends",
                                deb.toString());
        assertEquals(0, install.code(), install.describe());
        Result purge;
        try {
            for (String f :
                    List.of(
                            "/usr/share/jvmm/jvmm.jar",
                            "/usr/share/jvmm/jvmm-launch.sh",
                            "/usr/share/bash-completion/completions/jvmm")) {
                assertTrue(
                        Files.isRegularFile(Path.of(f)),
                        f + " not installed\n" + install.describe());
            }
            assertTrue(Files.isExecutable(Path.of("/usr/bin/jvmm")), install.describe());
            assertTrue(
                    Files.isDirectory(Path.of("/var/cache/jvmm")),
                    "postinst made no cache dir\n" + install.describe());
            String completion =
                    Files.readString(Path.of("/usr/share/bash-completion/completions/jvmm"));
            assertTrue(completion.contains("complete -F _complete_jvmm"), completion);
            assertTrue(completion.contains("--kernel"), completion);
            for (String page : List.of("jvmm", "jvmm-run", "jvmm-caps", "jvmm-ctl")) {
                String roff = gunzip(Path.of("/usr/share/man/man1/" + page + ".1.gz"));
                assertTrue(roff.contains(".TH \"" + page.toUpperCase(java.util.Locale.ROOT)), roff);
            }

            String images = Arm64KvmCondition.images().toString();
            Result boot =
                    run(
                            BOOT_LIMIT,
                            "/usr/bin/jvmm",
                            "run",
                            "-k",
                            images + "/Image",
                            "-i",
                            images + "/initramfs.gz",
                            "-m",
                            "256",
                            "-p",
                            "quiet",
                            "--timeout",
                            "200s");
            assertEquals(0, boot.code(), boot.describe());
            assertTrue(boot.out().contains("JVMM-BOOT-OK"), boot.describe());
            assertFalse(boot.err().contains("Exception"), boot.describe());
        } finally {
            purge = run(Duration.ofMinutes(2), "dpkg", "-P", "jvmm");
            assertEquals(0, purge.code(), purge.describe());
        }
        assertFalse(
                Files.exists(Path.of("/usr/bin/jvmm")),
                "purge left /usr/bin/jvmm\n" + purge.describe());
        assertFalse(
                Files.exists(Path.of("/var/cache/jvmm")),
                "purge left /var/cache/jvmm\n" + purge.describe());
    }

    /**
     * packaging/target/jvmm_VERSION_all.deb from this checkout's mvn package (./lab test runs it).
     */
    private static Path builtDeb() throws IOException {
        Path target = Path.of("packaging/target");
        List<Path> found = new ArrayList<>();
        if (Files.isDirectory(target)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(target, "jvmm_*_all.deb")) {
                ds.forEach(found::add);
            }
        }
        assertFalse(
                found.isEmpty(),
                "no jvmm_*_all.deb in " + target.toAbsolutePath() + " (mvn package builds it)");
        // an older version's package may linger until mvn clean: the newest is this build's
        found.sort(
                java.util.Comparator.comparing(
                        (Path f) -> f.toFile().lastModified(),
                        java.util.Comparator.reverseOrder()));
        return found.get(0);
    }

    /** A gzipped roff page as text, with roff's escaped dashes read as plain ones. */
    private static String gunzip(Path p) throws IOException {
        assertTrue(Files.isRegularFile(p), p + " not installed");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("\\-", "-");
        }
    }

    /** A console capture as text: bytes that are not UTF-8 become U+FFFD, never an exception. */
    private static String text(Path p) throws IOException {
        return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
    }

    record Result(int code, String out, String err) {
        String describe() {
            return "exit " + code + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
        }
    }

    /** Runs a command with stdin from /dev/null; kills it and fails after {@code limit}. */
    private static Result run(Duration limit, String... cmd) throws Exception {
        Path out = Files.createTempFile("deb-test", ".out");
        Path err = Files.createTempFile("deb-test", ".err");
        try {
            Process p =
                    new ProcessBuilder(cmd)
                            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                            .redirectOutput(out.toFile())
                            .redirectError(err.toFile())
                            .start();
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(
                        String.join(" ", cmd)
                                + " did not finish in "
                                + limit
                                + "\n"
                                + text(out)
                                + text(err));
            }
            return new Result(p.exitValue(), text(out), text(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
