package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.DeviceTreeBuilder;
import dev.jvmm.core.arch.DeviceTreeInput;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.arch.aarch64.CpuFeatures;
import dev.jvmm.core.boot.KernelLoader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lkvm run}'s spellings where jvmm means the same, {@code --nodefaults}, and the edge cases
 * kvmtool users' scripts meet (README, "Coming from kvmtool").
 */
class KvmtoolSpellingsTest {
    @TempDir Path dir;

    private static RunCommand parse(String... args) {
        RunCommand c = new RunCommand();
        new picocli.CommandLine(RunModel.of(c))
                .setCaseInsensitiveEnumValuesAllowed(true)
                .parseArgs(args);
        return c;
    }

    private static void assertUsageError(MainTest.Result r, String... mentions) {
        assertEquals(ExitCodes.USAGE, r.code(), r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertFalse(err.contains("Exception"), err);
        for (String m : mentions) assertTrue(err.contains(m), "names '" + m + "': " + err);
        assertEquals("", r.out());
    }

    @Test
    void kvmtoolsLongNamesAreJvmmsOptions() {
        RunCommand c =
                parse(
                        "--kernel",
                        "K",
                        "--initrd",
                        "I",
                        "--params",
                        "quiet",
                        "--cpus",
                        "3",
                        "--console",
                        "virtio");
        assertEquals(Path.of("K"), c.kernel);
        assertEquals(Path.of("I"), c.initrd);
        assertEquals("quiet", c.params);
        assertEquals(3, c.cpus);
        assertEquals(RunCommand.ConsoleDevice.VIRTIO, c.console);
        assertEquals(
                RunCommand.ConsoleDevice.SERIAL, parse("-k", "K", "--console", "serial").console);
    }

    /** kvmtool's -m/--mem: a bare number is MiB, a B/K/M/G/T suffix is that unit; so is jvmm's. */
    @Test
    void memIsAnAliasOfMemoryAndABareNumberIsMiBForEverySpelling() {
        for (String opt : List.of("-m", "--memory", "--mem")) {
            assertEquals(512L << 20, parse("-k", "K", opt, "512").memoryBytes, opt);
            assertEquals(2L << 30, parse("-k", "K", opt, "2G").memoryBytes, opt);
            assertEquals(1L << 30, parse("-k", "K", opt, "1048576K").memoryBytes, opt);
        }
        assertEquals(64L << 20, parse("-k", "K", "--mem=64").memoryBytes);
    }

    @Test
    void kvmtoolsRamAddressSuffixIsRefusedSayingWhy() {
        assertUsageError(
                MainTest.run("run", "-k", "K", "--mem", "512@0x90000000"),
                "--mem",
                "always at 0x80000000");
    }

    /** -m 0 is "Invalid RAM size" in kvmtool too: one line, not a guessed default. */
    @Test
    void zeroMemoryIsOneUsageLine() {
        assertUsageError(MainTest.run("run", "-k", "K", "-m", "0"), "RAM size", "16 MiB");
        assertUsageError(MainTest.run("run", "-k", "K", "--mem", "0"), "RAM size");
    }

    @Test
    void loglevelIsAnAliasAndTakesKvmtoolsLevels() throws Exception {
        assertEquals("warning", parse("-k", "K", "--loglevel", "warning").logLevel);
        assertEquals("debug", parse("-k", "K", "--loglevel=debug").logLevel);
        Path missing = dir.resolve("missing-kernel");
        for (String level : List.of("error", "warning", "info", "debug")) {
            // the level is accepted, so the one error is about the kernel
            MainTest.Result r = MainTest.run("run", "-k", missing.toString(), "--loglevel", level);
            assertUsageError(r, "missing-kernel");
        }
        assertUsageError(
                MainTest.run("run", "-k", missing.toString(), "--loglevel", "loud"), "loud");
    }

    @Test
    void kvmtoolsCpuSpellingsSetTheFeatures() {
        CpuFeatures f =
                parse(
                                "-k",
                                "K",
                                "--pmu",
                                "--irqchip=gicv3-its",
                                "--disable-sve",
                                "--disable-ptrauth")
                        .cpu
                        .features();
        assertEquals(new CpuFeatures(CpuFeatures.Irqchip.GICV3_ITS, true, false, false, false), f);
        assertEquals(CpuFeatures.DEFAULT, parse("-k", "K").cpu.features());
        assertEquals(CpuFeatures.Irqchip.AUTO, CpuFeatures.DEFAULT.irqchip());
        assertEquals(CpuFeatures.DEFAULT, parse("-k", "K", "--irqchip", "AUTO").cpu.features());
        assertEquals(CpuFeatures.DEFAULT, parse("-k", "K", "--disable-mte").cpu.features());
        assertTrue(parse("-k", "K", "--mte").cpu.features().mte());
    }

    /**
     * kvmtool turns MTE off with --disable-mte; asking for both is a contradiction, not a guess.
     */
    @Test
    void mteAndDisableMteTogetherIsOneUsageLine() {
        assertUsageError(
                MainTest.run("run", "-k", "K", "--mte", "--disable-mte"), "--mte", "--disable-mte");
    }

    @Test
    void networkModeNoneMeansNoNic() {
        RunCommand c = parse("-k", "K", "--network", "mode=none");
        assertEquals(List.of("none"), c.kvmtool.network);
        assertTrue(c.nets.isEmpty());
        assertEquals(List.of("none"), parse("-k", "K", "-n", "MODE=none").kvmtool.network);
    }

    @Test
    void otherNetworkModesSayWhatJvmmOffersInstead() {
        assertUsageError(
                MainTest.run("run", "-k", "K", "--network", "mode=tap,tapif=tap0"),
                "--network",
                "--net tap=NAME");
        assertUsageError(
                MainTest.run("run", "-k", "K", "--network", "mode=user"),
                "no user-mode networking",
                "--net tap=NAME");
        assertUsageError(MainTest.run("run", "-k", "K", "--network", "virtio"), "is not mode=none");
    }

    /**
     * In kvmtool mode=none only stops the default NIC (virtio/net.c: no_net is checked when no -n
     * NIC was given); jvmm adds none, so --net NICs are made either way.
     */
    @Test
    void networkNoneLeavesExplicitNicsAsKvmtoolDoes() {
        RunCommand c = parse("-k", "K", "--network", "mode=none", "--net", "tap=jt0");
        assertEquals(List.of("none"), c.kvmtool.network);
        assertEquals(1, c.nets.size());
        assertEquals("jt0", c.nets.get(0).tap());
    }

    @Test
    void withoutNodefaultsTheConsoleIsAddedAsBefore() {
        assertEquals("console=ttyS0", parse("-k", "K").commandLine());
        assertEquals("console=ttyS0 a b", parse("-k", "K", "-p", "a b").commandLine());
        assertEquals("console=hvc0", parse("-k", "K", "--console", "virtio").commandLine());
    }

    static final List<String> LINES =
            List.of(
                    "",
                    " ",
                    "a b  c",
                    "  leading and trailing  ",
                    "quoted=\"x y\" 'single' back\\slash $HOME;`x`&|<>",
                    "\ttab\tseparated\t",
                    "root=/dev/vda rw init=/bin/sh");

    /**
     * --nodefaults: what reaches /chosen/bootargs is the given line, byte for byte, NUL-terminated
     * (the empty line an empty property), through the same steps a run takes: picocli, {@link
     * RunCommand#commandLine}, {@link KernelLoader#commandLine}, {@link DeviceTreeBuilder}.
     */
    @Test
    void withNodefaultsTheBootargsAreTheGivenLineByteForByte() throws Exception {
        for (String line : LINES) {
            RunCommand c = parse("-k", "K", "--nodefaults", "-p", line);
            assertTrue(c.kvmtool.nodefaults);
            String cmdline = c.commandLine();
            assertEquals(line, cmdline);
            byte[] given = line.getBytes(StandardCharsets.UTF_8);
            byte[] expected = Arrays.copyOf(given, given.length + 1);
            assertArrayEquals(expected, KernelLoader.commandLine(cmdline));
            assertArrayEquals(expected, bootargs(dtb(cmdline)), "bootargs for [" + line + "]");
        }
        // no -p at all is the empty line
        assertArrayEquals(
                new byte[] {0}, bootargs(dtb(parse("-k", "K", "--nodefaults").commandLine())));
    }

    /** --nodefaults changes the command line only: the console is still found through the DTB. */
    @Test
    void withNodefaultsStdoutPathStillNamesTheConsole() {
        for (String console : List.of("serial", "virtio")) {
            byte[] dtb = dtb(parse("-k", "K", "--nodefaults", "--console", console).commandLine());
            byte[] path = FdtChosen.property(dtb, "stdout-path");
            assertEquals(
                    DeviceTreeBuilder.uartPath() + "\0",
                    new String(path, StandardCharsets.US_ASCII),
                    console);
        }
    }

    private static byte[] dtb(String cmdline) {
        Layout layout = new Layout(256L << 20, 1);
        return new DeviceTreeBuilder()
                .build(
                        DeviceTreeInput.of(
                                layout,
                                DeviceTreeInput.kvmDefaultMpidrs(1),
                                PsciVersion.V1_1,
                                cmdline));
    }

    private static byte[] bootargs(byte[] dtb) {
        return FdtChosen.property(dtb, "bootargs");
    }

    @Test
    void missingKernelIsOneLineAndNoGuess() {
        MainTest.Result r = MainTest.run("run");
        assertUsageError(r, "--kernel");
        MainTest.Result nodefaults = MainTest.run("run", "--nodefaults", "-p", "x");
        assertUsageError(nodefaults, "--kernel");
        assertUsageError(
                MainTest.run("run", "--kernel", dir.resolve("nope").toString()),
                "nope",
                "no such file");
    }

    @Test
    void cpusAboveTheRedistributorRegionAreRefused() {
        assertUsageError(MainTest.run("run", "-k", "K", "-c", "513"), "513 vCPUs", "512");
        assertUsageError(MainTest.run("run", "-k", "K", "--cpus", "0"), "0 vCPUs");
    }

    /** A file without the Image magic gets past every input check: it is loaded raw. */
    @Test
    void rawBinaryIsAcceptedAndAGzipWithoutAnImageIsNot() throws Exception {
        Path raw = Files.write(dir.resolve("prog.bin"), new byte[] {0x00, 0x00, 0x00, 0x14});
        MainTest.Result r =
                MainTest.run("run", "-k", raw.toString(), "--timeout", "2s", "--serial", "none");
        assertNotEquals(ExitCodes.USAGE, r.code(), r.err());
        assertFalse(r.err().contains("magic"), r.err());
        var bo = new java.io.ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bo)) {
            gz.write(new byte[4096]);
        }
        Path gz = Files.write(dir.resolve("zeros.gz"), bo.toByteArray());
        assertUsageError(MainTest.run("run", "-k", gz.toString()), "zeros.gz", "inside the gzip");
    }

    /** Just enough of an FDT reader to find a /chosen property (the guest's walk, in Java). */
    static final class FdtChosen {
        private FdtChosen() {}

        static byte[] property(byte[] dtb, String name) {
            ByteBuffer b = ByteBuffer.wrap(dtb); // big-endian, as the FDT
            assertEquals(0xd00dfeed, b.getInt(0));
            int struct = b.getInt(8), strings = b.getInt(12);
            int depth = 0;
            boolean inChosen = false;
            for (int off = struct; ; ) {
                int token = b.getInt(off);
                off += 4;
                switch (token) {
                    case 1 -> { // BEGIN_NODE
                        int end = off;
                        while (dtb[end] != 0) end++;
                        String node = new String(dtb, off, end - off, StandardCharsets.US_ASCII);
                        depth++;
                        inChosen = depth == 2 && node.equals("chosen");
                        off = (end + 1 + 3) & ~3;
                    }
                    case 2 -> { // END_NODE
                        depth--;
                        inChosen = false;
                    }
                    case 3 -> { // PROP
                        int len = b.getInt(off), nameOff = b.getInt(off + 4);
                        int end = strings + nameOff;
                        while (dtb[end] != 0) end++;
                        String prop =
                                new String(
                                        dtb,
                                        strings + nameOff,
                                        end - strings - nameOff,
                                        StandardCharsets.US_ASCII);
                        if (inChosen && prop.equals(name))
                            return Arrays.copyOfRange(dtb, off + 8, off + 8 + len);
                        off = (off + 8 + len + 3) & ~3;
                    }
                    case 4 -> {} // NOP
                    default -> throw new AssertionError("/chosen/" + name + " not found");
                }
            }
        }
    }
}
