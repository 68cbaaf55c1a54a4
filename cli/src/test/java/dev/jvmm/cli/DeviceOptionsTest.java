package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.net.MacAddress;
import dev.jvmm.core.vm.DiskConfig;
import dev.jvmm.core.vm.NetConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * --disk, --net, --rng and --console: what parses to what, and every refusal as one line with exit
 * 2.
 */
class DeviceOptionsTest {
    @TempDir Path dir;

    private Path file(String name) throws IOException {
        return Files.write(dir.resolve(name), new byte[4096]);
    }

    private RunCommand parse(String... args) {
        RunCommand c = new RunCommand();
        new CommandLine(RunModel.of(c)).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args);
        return c;
    }

    /** A minimal valid arm64 Image, so runs get past the kernel checks to the device checks. */
    private Path kernel() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x14000010);
        b.putLong(16, 1 << 16);
        b.putLong(24, 0xA);
        b.putInt(0x38, 0x644d5241);
        return Files.write(dir.resolve("Image"), b.array());
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
    void keyValueSyntaxAndTheBareFormParse() {
        assertEquals(
                Map.of("path", "a.img", "ro", "on"),
                KeyValues.parse("path=a.img,ro=on", List.of("path", "ro"), "path"));
        assertEquals(
                Map.of("path", "a.img", "ro", "on"),
                KeyValues.parse("a.img,ro=on", List.of("path", "ro"), "path"));
        assertEquals(
                Map.of("path", "a,b=c.img"),
                KeyValues.parse("path=a,,b=c.img", List.of("path", "ro"), "path"));
        assertEquals(Map.of("path", "x,"), KeyValues.parse("x,,", List.of("path"), "path"));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "path=a.img,foo=1|unknown key 'foo' (keys: path, ro)",
                "path=a.img,ro|'ro' is not key=value (keys: path, ro)",
                "path=a.img,path=b.img|'path' is given twice",
                "path=|'path' has an empty value",
                "path=a.img,|'path=a.img,' has an empty item (a stray ',')",
                "ro=on|unknown key 'ro'",
            })
    void keyValueErrorsNameTheItem(String text, String message) {
        List<String> keys = text.equals("ro=on") ? List.of("path") : List.of("path", "ro");
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> KeyValues.parse(text, keys, "path"));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }

    @Test
    void disksParseInOrderWithReadOnly() throws IOException {
        Path a = file("a.img"), b = file("b,1.img");
        RunCommand c =
                parse(
                        "-k",
                        "K",
                        "--disk",
                        "path=" + a,
                        "-d",
                        b.toString().replace(",", ",,") + ",ro=on",
                        "--disk",
                        a + ",ro=off");
        assertEquals(
                List.of(
                        new DiskConfig(a, false),
                        new DiskConfig(b, true),
                        new DiskConfig(a, false)),
                c.disks);
        assertEquals(true, DeviceOptions.disk("path=" + a + ",ro=true").readOnly());
    }

    @Test
    void diskErrorsAreOneLineUsageErrorsNamingTheProblem() throws IOException {
        Path a = file("a.img");
        assertUsageError(
                MainTest.run("run", "-k", "K", "--disk", "path=" + dir.resolve("nope.img")),
                "--disk",
                "nope.img",
                "no such file");
        assertUsageError(
                MainTest.run("run", "-k", "K", "--disk", "path=" + a + ",cache=none"),
                "--disk",
                "unknown key 'cache'");
        assertUsageError(
                MainTest.run("run", "-k", "K", "--disk", "path=" + a + ",ro=maybe"),
                "--disk",
                "'ro=maybe': expected on or off");
        assertUsageError(
                MainTest.run("run", "-k", "K", "--disk", "ro=on"),
                "--disk",
                "'ro=on' names no file");
        assertUsageError(
                MainTest.run("run", "-k", "K", "--disk", dir.toString()),
                "--disk",
                "is a directory");
        // checked together after parsing: one image twice
        assertUsageError(
                MainTest.run(
                        "run",
                        "-k",
                        kernel().toString(),
                        "--disk",
                        a.toString(),
                        "--disk",
                        a.toString()),
                "--disk " + a + " and --disk " + a + " are the same file");
    }

    @Test
    void netsParseWithGivenOrDerivedMacs() {
        RunCommand c = parse("-k", "K", "--net", "tap=tap0", "--net", "tap1,mac=52:54:00:12:34:56");
        assertEquals(
                List.of(
                        new NetConfig("tap0", MacAddress.derived("tap0")),
                        new NetConfig("tap1", MacAddress.parse("52:54:00:12:34:56"))),
                c.nets);
    }

    @Test
    void netErrorsAreOneLineUsageErrorsNamingTheProblem() throws IOException {
        assertUsageError(
                MainTest.run("run", "-k", "K", "--net", "tap=tap0,mac=01:00:5e:00:00:01"),
                "--net",
                "01:00:5e:00:00:01 is a multicast");
        assertUsageError(
                MainTest.run("run", "-k", "K", "--net", "tap=tap0,mac=52:54:00"),
                "--net",
                "'52:54:00' is not a MAC address");
        assertUsageError(
                MainTest.run("run", "-k", "K", "--net", "mac=52:54:00:12:34:56"),
                "--net",
                "names no tap interface");
        assertUsageError(
                MainTest.run("run", "-k", "K", "--net", "tap=way-too-long-tap-name"),
                "--net",
                "at most 15 characters");
        assertUsageError(
                MainTest.run("run", "-k", "K", "--net", "tap=t0,vhost=on"),
                "--net",
                "unknown key 'vhost' (keys: tap, mac)");
        assertUsageError(
                MainTest.run("run", "-k", kernel().toString(), "--net", "t0", "--net", "t0"),
                "tap t0 is given twice");
        assertUsageError(
                MainTest.run(
                        "run",
                        "-k",
                        kernel().toString(),
                        "--net",
                        "t0,mac=52:54:00:00:00:01",
                        "--net",
                        "t1,mac=52:54:00:00:00:01"),
                "MAC address 52:54:00:00:00:01 is used by the NICs on taps t0 and t1");
    }

    @Test
    void virtioConsoleNamesHvc0UnlessTheCommandLineNamesAConsole() {
        RunCommand c = parse("-k", "K", "--console", "virtio", "--rng");
        assertEquals(RunCommand.ConsoleDevice.VIRTIO, c.console);
        assertTrue(c.rng);
        assertEquals("console=hvc0", c.commandLine());
        c.params = "quiet";
        assertEquals("console=hvc0 quiet", c.commandLine());
        c.params = "console=ttyS0 quiet";
        assertEquals("console=ttyS0 quiet", c.commandLine());
        assertEquals(RunCommand.ConsoleDevice.SERIAL, parse("-k", "K").console);
        assertFalse(parse("-k", "K").rng);
        assertUsageError(MainTest.run("run", "-k", "K", "--console", "hvc"), "--console");
    }

    @Test
    void virtioTransportIsPciUnlessMmioIsAskedFor() {
        assertEquals(dev.jvmm.core.vm.VirtioTransportKind.PCI, parse("-k", "K").virtioTransport);
        assertEquals(
                dev.jvmm.core.vm.VirtioTransportKind.PCI,
                parse("-k", "K", "--virtio-transport", "pci").virtioTransport);
        assertEquals(
                dev.jvmm.core.vm.VirtioTransportKind.MMIO,
                parse("-k", "K", "--virtio-transport", "mmio").virtioTransport);
        assertUsageError(
                MainTest.run("run", "-k", "K", "--virtio-transport", "pci-legacy"),
                "--virtio-transport",
                "pci-legacy");
        assertUsageError(
                MainTest.run("run", "-k", "K", "--virtio-transport"), "--virtio-transport");
    }
}
