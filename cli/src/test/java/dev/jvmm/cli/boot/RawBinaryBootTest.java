package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.testing.BootTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kvmtool parity with a raw (header-less) bare-metal program, cmdline-raw.bin: where it is loaded
 * and entered, where it finds the DTB (x0) and the initrd, and that {@code --nodefaults} hands it
 * the command line byte for byte. Plus the edges kvmtool users meet: a cut-off Image is still
 * refused, more vCPUs than host CPUs is a warning.
 */
@BootTest
class RawBinaryBootTest {
    private static final Duration LIMIT = Duration.ofSeconds(90);

    /** Spaces (leading, doubled, trailing), quotes, shell and FDT-ish characters, a tab. */
    private static final String ODD_LINE =
            "  first  \"two words\" it's $HOME;`x` a=b=c \\back\ttab <x> end  ";

    private static final String PC = "PC=0x0000000080080000\r\n";

    /** kvmtool's DTB block for a raw binary: the last 2 MiB below min(RAM, 256 MiB). */
    private static final long DTB = 0x8000_0000L + 254 * (1L << 20);

    private static JvmmProcess.Result raw(String... extra) {
        List<String> args = new ArrayList<>(List.of("run", "-k", image("cmdline-raw.bin")));
        args.addAll(Arrays.asList(extra));
        JvmmProcess.Result r = JvmmProcess.run(LIMIT, args.toArray(String[]::new));
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("RAW-DONE\r\n"), r.describe());
        return r;
    }

    private static String cmdline(JvmmProcess.Result r) {
        int open = r.out().indexOf("CMDLINE<"), close = r.out().lastIndexOf(">\r\n");
        assertTrue(open >= 0 && close > open, "no CMDLINE<...>\n" + r.describe());
        return r.out().substring(open + "CMDLINE<".length(), close);
    }

    private static String hex(long v) {
        return String.format("0x%016x\r\n", v);
    }

    @Test
    void nodefaultsHandsTheCommandLineOverByteForByte() {
        JvmmProcess.Result r = raw("--nodefaults", "-p", ODD_LINE, "--log-level", "info");
        assertTrue(r.out().startsWith(PC), "entered at RAM + 0x80000\n" + r.describe());
        assertTrue(r.out().contains("DTB=" + hex(DTB)), "x0 = the DTB\n" + r.describe());
        assertEquals(ODD_LINE, cmdline(r), r.describe());
        assertFalse(r.out().contains("NO-BOOTARGS"), r.describe());
        assertTrue(
                r.err().contains("loaded raw") && r.err().contains("0x80080000"),
                "the info line says it was loaded raw\n" + r.describe());
    }

    @Test
    void nodefaultsWithAnEmptyCommandLineIsAnEmptyBootargs() {
        assertEquals("", cmdline(raw("--nodefaults", "-p", "")));
        assertEquals("", cmdline(raw("--nodefaults")), "no -p is the empty line too");
    }

    @Test
    void withoutNodefaultsOnlyTheConsoleIsAdded() {
        JvmmProcess.Result r = raw("-p", ODD_LINE);
        assertEquals("console=ttyS0 " + ODD_LINE, cmdline(r), r.describe());
        assertFalse(
                r.err().contains("loaded raw"),
                "an info line at the default level\n" + r.describe());
    }

    /**
     * With 1 GiB of RAM the DTB and initrd of a raw binary stay below 256 MiB, as kvmtool puts
     * them; the program finds the initrd through /chosen/linux,initrd-start, under the DTB.
     */
    @Test
    void dtbAndInitrdStayInTheFirst256MiBWithKvmtoolsSpellings() throws IOException {
        long initrdSize = Files.size(Path.of(image("initramfs.gz")));
        JvmmProcess.Result r =
                raw(
                        "--mem",
                        "1024",
                        "--initrd",
                        image("initramfs.gz"),
                        "--params",
                        "x",
                        "--nodefaults",
                        "--network",
                        "mode=none",
                        "--loglevel",
                        "warning",
                        "--cpus",
                        "1",
                        "--console",
                        "serial");
        assertTrue(r.out().startsWith(PC), r.describe());
        assertTrue(r.out().contains("DTB=" + hex(DTB)), r.describe());
        long initrd = (DTB - initrdSize) & -0x10000L;
        assertTrue(r.out().contains("INITRD=" + hex(initrd)), r.describe());
        assertEquals("x", cmdline(r));
    }

    /** The magic present makes it an Image: cut short, it is refused, not entered raw. */
    @Test
    void aTruncatedImageIsStillRefused(@TempDir Path dir) throws IOException {
        byte[] image = Files.readAllBytes(Path.of(image("Image")));
        Path half = Files.write(dir.resolve("half-Image"), Arrays.copyOf(image, image.length / 2));
        JvmmProcess.Result r = JvmmProcess.run(LIMIT, "run", "-k", half.toString());
        assertEquals(2, r.code(), r.describe());
        assertEquals("", r.out(), r.describe());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line\n" + r.describe());
        assertTrue(err.contains("half-Image") && err.contains("truncated"), r.describe());
    }

    /** kvmtool warns and runs; so does jvmm. Only the boot vCPU runs hello. */
    @Test
    void moreVcpusThanHostCpusIsAWarningAndTheGuestRuns() throws IOException {
        int online = onlineCpus();
        int cpus = Math.min(online + 2, 512);
        JvmmProcess.Result r =
                JvmmProcess.run(LIMIT, "run", "-k", image("hello.img"), "-c", String.valueOf(cpus));
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("BAREMETAL-HELLO"), r.describe());
        assertTrue(
                r.err().contains(cpus + " vCPUs on a host with " + online + " online CPUs"),
                r.describe());
        JvmmProcess.Result quiet =
                JvmmProcess.run(LIMIT, "run", "-k", image("hello.img"), "-c", "1");
        assertEquals(0, quiet.code(), quiet.describe());
        assertFalse(quiet.err().contains("online CPUs"), quiet.describe());
    }

    /** /sys/devices/system/cpu/online, e.g. "0-3,6": what KVM_CAP_NR_VCPUS counts. */
    private static int onlineCpus() throws IOException {
        int n = 0;
        String list = Files.readString(Path.of("/sys/devices/system/cpu/online")).strip();
        for (String part : list.split(",", -1)) {
            int dash = part.indexOf('-');
            n +=
                    dash < 0
                            ? 1
                            : Integer.parseInt(part.substring(dash + 1))
                                    - Integer.parseInt(part.substring(0, dash))
                                    + 1;
        }
        return n;
    }
}
