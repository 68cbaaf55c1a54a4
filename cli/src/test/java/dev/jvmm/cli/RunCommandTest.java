package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jvmm.core.vm.VmResult;
import dev.jvmm.kvm.testing.Arm64KvmCondition;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `jvmm run` input handling: every bad input is one line, exit 2, before any KVM fd is opened. */
class RunCommandTest {
    @TempDir Path dir;

    /**
     * A minimal valid arm64 Image: branch, text_offset 0, image_size, LE/4K/anywhere flags, magic.
     */
    private Path image(String name, int size) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x14000010); // b +64
        b.putLong(8, 0);
        b.putLong(16, size);
        b.putLong(24, 0xA);
        b.putInt(0x38, 0x644d5241);
        return Files.write(dir.resolve(name), b.array());
    }

    private static void assertUsageError(MainTest.Result r, String mentions) {
        assertEquals(ExitCodes.USAGE, r.code(), r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertFalse(err.contains("Exception"), err);
        assertTrue(err.contains(mentions), "names '" + mentions + "': " + err);
        assertEquals("", r.out());
    }

    @Test
    void missingKernelFileIsNamed() {
        assertUsageError(MainTest.run("run", "-k", dir.resolve("nope").toString()), "nope");
    }

    /** A file without the magic is a raw binary now; an Image (magic present) cut short is not. */
    @Test
    void truncatedImageIsNamed() throws IOException {
        Path full = image("Image", 4096);
        Path cut =
                Files.write(
                        dir.resolve("cut.img"),
                        java.util.Arrays.copyOf(Files.readAllBytes(full), 62));
        assertUsageError(MainTest.run("run", "-k", cut.toString()), "cut.img");
    }

    @Test
    void missingInitrdIsNamed() throws IOException {
        Path k = image("Image", 1 << 16);
        assertUsageError(
                MainTest.run("run", "-k", k.toString(), "-i", dir.resolve("no-initrd").toString()),
                "no-initrd");
    }

    @Test
    void overlongCommandLineIsRefused() throws IOException {
        Path k = image("Image", 1 << 16);
        assertUsageError(
                MainTest.run("run", "-k", k.toString(), "-p", "x".repeat(3000)), "command line");
    }

    @Test
    void kernelLargerThanRamIsRefused() throws IOException {
        Path k = image("Big", 20 << 20);
        assertUsageError(MainTest.run("run", "-k", k.toString(), "-m", "16"), "Big");
    }

    @Test
    void badOptionValuesAreUsageErrors() throws IOException {
        Path k = image("Image", 1 << 16);
        assertEquals(ExitCodes.USAGE, MainTest.run("run", "-k", k.toString(), "-m", "lots").code());
        assertEquals(
                ExitCodes.USAGE, MainTest.run("run", "-k", k.toString(), "--serial", "tty").code());
        assertEquals(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", k.toString(), "--timeout", "soon").code());
        assertEquals(
                ExitCodes.USAGE,
                MainTest.run("run", "-k", k.toString(), "--on-reset", "maybe").code());
        assertUsageError(MainTest.run("run", "-k", k.toString(), "-c", "0"), "vCPU");
        assertUsageError(
                MainTest.run("run", "-k", k.toString(), "--log-level", "loud"), "--log-level");
        assertEquals(ExitCodes.USAGE, MainTest.run("run").code(), "--kernel is required");
    }

    @Test
    void badFirmwareOptionsAreOneLineUsageErrors() throws IOException {
        Path k = image("Image", 1 << 16);
        MainTest.Result r = MainTest.run("run", "-k", k.toString(), "--hypercalls", "-trng,-rng");
        assertUsageError(r, "unknown hypercall service 'rng'");
        assertTrue(r.err().contains("--hypercalls"), r.err());
        r = MainTest.run("run", "-k", k.toString(), "--psci", "2.0");
        assertUsageError(r, "PSCI version '2.0': KVM accepts 0.1, 0.2, 1.0, 1.1, 1.2, 1.3");
        assertTrue(r.err().contains("--psci"), r.err());
        assertUsageError(
                MainTest.run(
                        "run", "-k", k.toString(), "--no-pvtime", "--hypercalls", "trng,pv-time"),
                "--no-pvtime contradicts --hypercalls none,+trng,+pv-time");
    }

    @Test
    void badHypercallOptionsAreOneLineUsageErrors() throws IOException {
        Path k = image("Image", 1 << 16);
        assertUsageError(
                MainTest.run(
                        "run", "-k", k.toString(), "--sdei", "--sdei-event", "100,public,normal"),
                "type 'public' is not shared or private");
        assertUsageError(
                MainTest.run(
                        "run", "-k", k.toString(), "--sdei", "--sdei-event", "0,private,normal"),
                "event 0 is built in");
        assertUsageError(
                MainTest.run("run", "-k", k.toString(), "--sdei-event", "100,private,normal"),
                "--sdei-event 100,private,normal needs --sdei");
        assertUsageError(
                MainTest.run(
                        "run",
                        "-k",
                        k.toString(),
                        "--sdei",
                        "--sdei-event",
                        "7,private,normal",
                        "--sdei-event",
                        "7,shared,critical"),
                "--sdei-event 7 given twice");
        assertUsageError(
                MainTest.run("run", "-k", k.toString(), "--smccc", "allow=0x1"),
                "'allow=0x1' is not deny=RANGE");
        assertUsageError(
                MainTest.run("run", "-k", k.toString(), "--smccc", "deny=0xC4000030-0xC4000020"),
                "bad SMCCC function ID range '0xC4000030-0xC4000020'");
        assertUsageError(
                MainTest.run("run", "-k", k.toString(), "--smccc", "deny=0x80000000"),
                "deny=0x80000000 overlaps the Arm architecture calls");
        assertUsageError(
                MainTest.run("run", "-k", k.toString(), "--impl-cpu", "revidr=1"),
                "bad CPU implementation 'revidr=1': midr= is missing");
        assertUsageError(
                MainTest.run("run", "-k", k.toString(), "--impl-cpu", "midr=0x41,cpu=1"),
                "'cpu=1' is not midr=, revidr= or aidr=");
    }

    @Test
    void implCpusParseInOrder() {
        RunCommand c = new RunCommand();
        new picocli.CommandLine(RunModel.of(c))
                .parseArgs(
                        "-k",
                        "K",
                        "--impl-cpu",
                        "midr=0x410fd083,revidr=0x1,aidr=0x551",
                        "--impl-cpu",
                        "midr=0x413fd0c1");
        dev.jvmm.core.hypercall.HypercallConfig h = c.hypercalls();
        assertEquals(
                "[midr=0x410fd083,revidr=0x1,aidr=0x551, midr=0x413fd0c1,revidr=0x0,aidr=0x0]",
                h.implCpus().toString());
        assertTrue(h.servesDiscoverImpl() && h.needsFilter());
        assertEquals("--impl-cpu", h.options());
    }

    @Test
    void hypercallOptionsParse() {
        RunCommand c = new RunCommand();
        new picocli.CommandLine(RunModel.of(c))
                .parseArgs(
                        "-k",
                        "K",
                        "--sdei",
                        "--sdei-event",
                        "100,private,normal",
                        "--sdei-event",
                        "200,shared,critical",
                        "--smccc",
                        "deny=0xC5000020+2",
                        "--smccc",
                        "deny=0x86000001",
                        "--shared-regions");
        dev.jvmm.core.hypercall.HypercallConfig h = c.hypercalls();
        assertTrue(h.sdei() && h.sharedRegions());
        assertEquals("[100,private,normal, 200,shared,critical]", h.sdeiEvents().toString());
        assertEquals("[0xC5000020-0xC5000021, 0x86000001]", h.deny().toString());
        RunCommand d = new RunCommand();
        new picocli.CommandLine(RunModel.of(d)).parseArgs("-k", "K");
        assertEquals(dev.jvmm.core.hypercall.HypercallConfig.NONE, d.hypercalls());
    }

    @Test
    void firmwareOptionsParse() {
        RunCommand c = new RunCommand();
        new picocli.CommandLine(RunModel.of(c))
                .parseArgs(
                        "-k",
                        "K",
                        "--hypercalls",
                        "-ptp,-trng",
                        "--psci",
                        "1.0",
                        "--no-pvtime",
                        "--mem-lock");
        assertEquals(
                dev.jvmm.core.firmware.HypercallSelection.parse("-trng,-ptp"),
                c.hypercallSelection());
        assertEquals(dev.jvmm.core.arch.PsciVersion.V1_0, c.psci);
        assertTrue(c.noPvTime);
        assertTrue(c.memLock);
        RunCommand d = new RunCommand();
        new picocli.CommandLine(RunModel.of(d)).parseArgs("-k", "K");
        assertEquals(dev.jvmm.core.firmware.HypercallSelection.ALL, d.hypercallSelection());
        assertEquals(null, d.psci);
        assertFalse(d.noPvTime || d.memLock);
    }

    @Test
    void validInputWithoutArm64KvmReachesTheKvmCheck() throws IOException {
        assumeTrue(Arm64KvmCondition.unavailableReason() != null, "this host has arm64 KVM");
        Path k = image("Image", 1 << 16);
        MainTest.Result r = MainTest.run("run", "-k", k.toString(), "--serial", "none");
        assertEquals(ExitCodes.KVM_UNAVAILABLE, r.code(), r.err());
    }

    @Test
    void documentedOptionSpellingsParse() {
        RunCommand c = new RunCommand();
        new picocli.CommandLine(RunModel.of(c))
                .setCaseInsensitiveEnumValuesAllowed(true)
                .parseArgs(
                        "-k",
                        "K",
                        "--on-reset",
                        "reboot",
                        "--serial",
                        "file=/tmp/x",
                        "--timeout",
                        "2m",
                        "-m",
                        "1G");
        assertEquals(dev.jvmm.core.vm.VmConfig.OnReset.REBOOT, c.onReset);
        assertEquals(SerialTarget.Kind.FILE, c.serial.kind());
        assertEquals(Duration.ofMinutes(2), c.timeout);
        assertEquals(1L << 30, c.memoryBytes);
        // through the CLI the user gets: the lowercase value is accepted, so the error is about the
        // file
        MainTest.Result r =
                MainTest.run(
                        "run", "-k", dir.resolve("missing").toString(), "--on-reset", "reboot");
        assertTrue(r.err().contains("missing") && !r.err().contains("--on-reset"), r.err());
    }

    @Test
    void consoleIsAddedOnlyWhenTheCommandLineNamesNone() {
        RunCommand c = new RunCommand();
        assertEquals("console=ttyS0", c.commandLine());
        c.params = "quiet";
        assertEquals("console=ttyS0 quiet", c.commandLine());
        c.params = "console=hvc0 quiet";
        assertEquals("console=hvc0 quiet", c.commandLine());
    }

    @Test
    void outcomesMapToTheExitCodeContract() {
        assertEquals(0, RunCommand.exitCode(VmResult.of(VmResult.Reason.POWEROFF, "")));
        assertEquals(32, RunCommand.exitCode(VmResult.of(VmResult.Reason.RESET, "")));
        assertEquals(33, RunCommand.exitCode(VmResult.of(VmResult.Reason.CRASH, "")));
        assertEquals(34, RunCommand.exitCode(VmResult.of(VmResult.Reason.PANIC, "")));
        assertEquals(124, RunCommand.exitCode(VmResult.of(VmResult.Reason.TIMEOUT, "")));
        assertEquals(130, RunCommand.exitCode(VmResult.signal(2, "")));
        assertEquals(143, RunCommand.exitCode(VmResult.signal(15, "")));
        assertEquals(1, RunCommand.exitCode(VmResult.of(VmResult.Reason.ERROR, "")));
        assertEquals(0, RunCommand.exitCode(VmResult.of(VmResult.Reason.STOPPED_BY_API, "")));
    }

    @Test
    void apiSocketInAMissingDirectoryIsAUsageErrorBeforeKvm() throws IOException {
        Path k = image("Image", 1 << 16);
        Path sock = dir.resolve("gone/api.sock");
        MainTest.Result r =
                MainTest.run(
                        "run",
                        "-k",
                        k.toString(),
                        "--serial",
                        "none",
                        "--api-socket",
                        sock.toString());
        assertUsageError(
                r,
                "--api-socket " + sock + ": directory " + dir.resolve("gone") + " does not exist");
    }

    @Test
    void apiSocketServedByAnotherProcessIsAUsageError() throws Exception {
        Path k = image("Image", 1 << 16);
        Path sock = dir.resolve("api.sock");
        try (var live =
                java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            live.bind(java.net.UnixDomainSocketAddress.of(sock));
            MainTest.Result r =
                    MainTest.run(
                            "run",
                            "-k",
                            k.toString(),
                            "--serial",
                            "none",
                            "--api-socket",
                            sock.toString());
            assertUsageError(r, "another process is serving this socket");
        }
    }

    @Test
    void apiSocketIsRemovedWhenTheRunFailsAfterCreatingIt() throws IOException {
        assumeTrue(Arm64KvmCondition.unavailableReason() != null, "this host has arm64 KVM");
        Path k = image("Image", 1 << 16);
        Path sock = dir.resolve("api.sock");
        MainTest.Result r =
                MainTest.run(
                        "run",
                        "-k",
                        k.toString(),
                        "--serial",
                        "none",
                        "--api-socket",
                        sock.toString());
        assertEquals(ExitCodes.KVM_UNAVAILABLE, r.code(), r.err());
        assertFalse(
                Files.exists(sock, java.nio.file.LinkOption.NOFOLLOW_LINKS), "socket left behind");
        try (var files = Files.list(dir)) {
            assertEquals(
                    java.util.List.of(k), files.toList(), "nothing else left in the directory");
        }
    }

    @Test
    void sizesAndDurations() {
        assertEquals(512L << 20, Sizes.memory("512"));
        assertEquals(512L << 20, Sizes.memory("512M"));
        assertEquals(2L << 30, Sizes.memory("2G"));
        assertEquals(256L << 20, Sizes.memory("256MiB"));
        assertEquals(1L << 20, Sizes.memory("1024k"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.memory("-1"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.memory("99999999999999G"));
        assertEquals(Duration.ofSeconds(30), Sizes.duration("30"));
        assertEquals(Duration.ofMillis(500), Sizes.duration("500ms"));
        assertEquals(Duration.ofMinutes(2), Sizes.duration("2m"));
        assertEquals(Duration.ofMillis(1500), Sizes.duration("1.5s"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.duration("0"));
    }
}
