package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files of `jvmm run`: one path has one role, inputs are checked (regular files, the true errno
 * reason) before any output is opened, and no user error shows a Java class name or stack trace.
 */
class RunFilesTest {
    @TempDir Path dir;

    private Path image(String name) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x14000010);
        b.putLong(16, 1 << 16);
        b.putLong(24, 0xA);
        b.putInt(0x38, 0x644d5241);
        return Files.write(dir.resolve(name), b.array());
    }

    private Path randomFile(String name, int size) throws IOException {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return Files.write(dir.resolve(name), b);
    }

    /** Exit code and exactly one line on stderr that says {@code mentions}, with no Java in it. */
    private static void assertOneLine(int code, MainTest.Result r, String... mentions) {
        assertEquals(code, r.code(), r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.startsWith("jvmm: "), err);
        assertFalse(
                err.contains("Exception") || err.contains("java.") || err.contains("Error"),
                "no Java in: " + err);
        for (String m : mentions) assertTrue(err.contains(m), "says '" + m + "': " + err);
        assertEquals("", r.out());
    }

    @Test
    void serialFileThatIsTheDiskLeavesTheDiskByteIdentical() throws IOException {
        Path k = image("Image");
        Path disk = randomFile("disk.img", 4 << 20);
        byte[] before = Files.readAllBytes(disk);
        MainTest.Result r =
                MainTest.run(
                        "run",
                        "-k",
                        k.toString(),
                        "--serial",
                        "file=" + disk,
                        "--disk",
                        "path=" + disk);
        assertOneLine(ExitCodes.USAGE, r, "--serial file=" + disk, "--disk " + disk, "same file");
        assertArrayEquals(before, Files.readAllBytes(disk), "the disk image must be untouched");
    }

    @Test
    void oneFileInTwoRolesIsRefusedThroughLinksToo() throws IOException {
        Path k = image("Image");
        Path disk = randomFile("disk.img", 1 << 20);
        Path link = Files.createSymbolicLink(dir.resolve("link.img"), disk);
        Path hard = Files.createLink(dir.resolve("hard.img"), disk);
        // the initrd's descriptor closing would also have dropped the disk's old POSIX lock
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run(
                        "run", "-k", k.toString(), "-i", link.toString(), "-d", disk.toString()),
                "--initrd " + link,
                "--disk " + disk,
                "same file");
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run(
                        "run",
                        "-k",
                        k.toString(),
                        "-d",
                        hard.toString(),
                        "--serial",
                        "file=" + disk),
                "same file");
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", k.toString(), "-i", k.toString()),
                "--kernel " + k,
                "--initrd " + k);
        byte[] kernelBefore = Files.readAllBytes(k);
        Files.createSymbolicLink(dir.resolve("link-k"), k);
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run(
                        "run", "-k", k.toString(), "--dump-dtb", dir.resolve("link-k").toString()),
                "--dump-dtb " + dir.resolve("link-k"),
                "--kernel " + k);
        assertArrayEquals(kernelBefore, Files.readAllBytes(k));
    }

    @Test
    void outputsThatDoNotExistYetAreComparedByName() throws IOException {
        Path k = image("Image");
        Path out = dir.resolve("out");
        Files.createDirectory(dir.resolve("sub"));
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run(
                        "run",
                        "-k",
                        k.toString(),
                        "--serial",
                        "file=" + out,
                        "--dump-dtb",
                        dir.resolve("sub/../out").toString()),
                "--serial file=" + out,
                "same file");
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run(
                        "run",
                        "-k",
                        k.toString(),
                        "--serial",
                        "file=" + out,
                        "--api-socket",
                        out.toString()),
                "--api-socket " + out,
                "same file");
        assertFalse(Files.exists(out), "nothing created");
    }

    @Test
    @SuppressWarnings("try") // held is the other VM's lock, kept for the body's duration
    void serialFileIsNotTouchedWhenADiskCannotBeLocked() throws IOException {
        Path k = image("Image");
        Path disk = randomFile("disk.img", 1 << 20);
        Path serial = randomFile("serial.log", 1000);
        byte[] before = Files.readAllBytes(serial);
        try (FileChannel other =
                        FileChannel.open(disk, StandardOpenOption.READ, StandardOpenOption.WRITE);
                FileLock held = other.lock()) { // as another VM holding the image
            MainTest.Result r =
                    MainTest.run(
                            "run",
                            "-k",
                            k.toString(),
                            "--serial",
                            "file=" + serial,
                            "-d",
                            disk.toString());
            assertOneLine(ExitCodes.HOST_ERROR, r, "disk " + disk, "in use");
        }
        assertArrayEquals(
                before,
                Files.readAllBytes(serial),
                "the serial file is opened only after every disk is locked");
    }

    @Test
    void kernelAndInitrdMustBeRegularFiles() throws Exception {
        Path k = image("Image");
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", "/dev/zero"),
                "kernel /dev/zero",
                "not a regular file");
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", k.toString(), "-i", "/dev/zero"),
                "initrd /dev/zero",
                "not a regular file");
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        MainTest.Result r =
                assertTimeoutPreemptively(
                        Duration.ofSeconds(20), () -> MainTest.run("run", "-k", fifo.toString()));
        assertOneLine(ExitCodes.USAGE, r, "kernel " + fifo, "not a regular file");
        r =
                assertTimeoutPreemptively(
                        Duration.ofSeconds(20),
                        () -> MainTest.run("run", "-k", k.toString(), "-i", fifo.toString()));
        assertOneLine(ExitCodes.USAGE, r, "initrd " + fifo, "not a regular file");
    }

    @Test
    void converterErrorsNameNoJavaClassAndStateTheRange() throws IOException {
        Path k = image("Image");
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", k.toString(), "--timeout", "0"),
                "'0'",
                "1ms");
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", k.toString(), "--timeout", "soon"),
                "'soon'");
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", k.toString(), "--memory", "lots"),
                "'lots'");
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", k.toString(), "--memory", "99999999999999G"),
                "too large");
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", k.toString(), "--serial", "tty"),
                "'tty'");
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", k.toString(), "--disk", "ro=on"),
                "--disk");
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", k.toString(), "--net", "tap=t0,mac=zz"),
                "--net");
        assertOneLine(
                ExitCodes.USAGE, MainTest.run("run", "-k", k.toString(), "--psci", "9"), "--psci");
    }

    @Test
    void dumpDtbToABadPathIsOneLineWithTheReason() throws IOException {
        Path k = image("Image");
        Path bad = dir.resolve("no-such-dir/x.dtb");
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", k.toString(), "--dump-dtb", bad.toString()),
                "--dump-dtb " + bad,
                "no such file or directory");
        Path asDir = Files.createDirectory(dir.resolve("adir"));
        assertOneLine(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", k.toString(), "--dump-dtb", asDir.toString()),
                "--dump-dtb " + asDir,
                "is a directory");
    }

    @Test
    void permissionDeniedIsNotNoSuchFile() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path k = image("Image");
        Path locked = Files.createDirectory(dir.resolve("locked"));
        Path disk = randomFile("locked/disk.img", 1 << 20);
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        Path serial = randomFile("serial.log", 100);
        Files.setPosixFilePermissions(serial, PosixFilePermissions.fromString("r--r--r--"));
        try {
            MainTest.Result r =
                    ChildJvmm.run(
                            List.of("--enable-native-access=ALL-UNNAMED"),
                            true,
                            "run",
                            "-k",
                            k.toString(),
                            "-d",
                            disk.toString());
            assertOneLine(ExitCodes.USAGE, r, "disk " + disk, "permission denied");
            r =
                    ChildJvmm.run(
                            List.of("--enable-native-access=ALL-UNNAMED"),
                            true,
                            "run",
                            "-k",
                            k.toString(),
                            "--serial",
                            "file=" + serial);
            assertOneLine(ExitCodes.USAGE, r, "--serial file=" + serial, "permission denied");
            r =
                    ChildJvmm.run(
                            List.of("--enable-native-access=ALL-UNNAMED"),
                            true,
                            "run",
                            "-k",
                            k.toString(),
                            "--serial",
                            "file=" + locked.resolve("new.log"));
            assertOneLine(
                    ExitCodes.USAGE,
                    r,
                    "--serial file=" + locked.resolve("new.log"),
                    "permission denied");
        } finally {
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
        }
    }

    @Test
    void nativeAccessDeniedIsOneLineSayingHowToAllowIt() throws Exception {
        Path k = image("Image");
        MainTest.Result r =
                ChildJvmm.run(
                        List.of("--illegal-native-access=deny"),
                        false,
                        "run",
                        "-k",
                        k.toString(),
                        "--serial",
                        "none");
        assertOneLine(
                ExitCodes.HOST_ERROR, r, "native access", "--enable-native-access=ALL-UNNAMED");
        // what needs no native code still works
        r = ChildJvmm.run(List.of("--illegal-native-access=deny"), false, "--version");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void parsingEveryRunOptionNeedsNoNativeCode() throws Exception {
        // with native access denied, only native code could turn this usage error into another
        Path disk = randomFile("disk.img", 4096);
        MainTest.Result r =
                ChildJvmm.run(
                        List.of("--illegal-native-access=deny"),
                        false,
                        "run",
                        "-k",
                        "/nonexistent/jvmm-kernel",
                        "--hypercalls",
                        "-ptp,+trng",
                        "--psci",
                        "1.0",
                        "--smccc",
                        "deny=0xC4000020+2",
                        "--sdei",
                        "--sdei-event",
                        "100,private,normal",
                        "--disk",
                        "path=" + disk,
                        "--net",
                        "tap=jvmm0",
                        "--timeout",
                        "5s",
                        "-m",
                        "512M",
                        "--serial",
                        "none",
                        "--console",
                        "virtio",
                        "--on-reset",
                        "reboot");
        assertOneLine(ExitCodes.USAGE, r, "/nonexistent/jvmm-kernel", "no such file");
    }
}
