package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.jvmm.kvm.testing.BootTest;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SVE, pointer authentication and MTE in bare-metal guests (sve.img, sve-reboot.img, pac.img,
 * mte.img): on by default where KVM offers them (the lab's L1 does: QEMU's -cpu max), off with
 * --disable-sve / --disable-ptrauth, where the instructions then trap as undefined; MTE only with
 * --mte.
 */
@BootTest
class CpuFeaturesBootTest {
    private static final Duration LIMIT = Duration.ofSeconds(90);
    private static final Pattern VL = Pattern.compile("SVE-VL-BYTES=(\\d+)");

    /** This host's cpu_features from {@code jvmm caps --json}. */
    private static Map<String, Object> caps;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void readCaps() throws IOException {
        JvmmProcess.Result r = JvmmProcess.run(LIMIT, "caps", "--json");
        assertEquals(0, r.code(), r.describe());
        caps = (Map<String, Object>) JSON.std.mapFrom(r.out()).get("cpu_features");
        assertEquals(true, caps.get("sve"), "the lab's KVM offers SVE\n" + r.out());
        assertEquals(true, caps.get("ptrauth"), "the lab's KVM offers PAuth\n" + r.out());
    }

    private static JvmmProcess.Result run(String... args) {
        return JvmmProcess.run(LIMIT, args);
    }

    /** The largest vector length caps reports, in bytes: what the guest gets by default. */
    private static int maxVectorBytes() {
        List<?> bits = (List<?>) caps.get("sve_vector_lengths");
        return ((Number) bits.getLast()).intValue() / 8;
    }

    @Test
    void sveRunsByDefaultAtTheLargestVectorLength() {
        JvmmProcess.Result r = run("run", "-k", image("sve.img"), "--log-level", "info");
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("SVE-OK"), r.describe());
        Matcher m = VL.matcher(r.out());
        assertTrue(m.find(), r.describe());
        assertEquals(maxVectorBytes(), Integer.parseInt(m.group(1)), r.describe());
        assertTrue(r.err().contains("vCPUs: SVE (VL 128.."), r.describe());
    }

    @Test
    void disableSveMakesSveInstructionsUndefined() {
        JvmmProcess.Result r =
                run("run", "-k", image("sve.img"), "--disable-sve", "--log-level", "info");
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("SVE-UNDEF"), r.describe());
        assertFalse(r.out().contains("SVE-OK"), r.describe());
        assertTrue(r.err().contains("no SVE (--disable-sve)"), r.describe());
    }

    /**
     * An in-place reboot repeats KVM_ARM_VCPU_INIT on a vCPU whose SVE is already finalized: the
     * second boot must still have SVE, at the same vector length.
     */
    @Test
    void sveSurvivesAnInPlaceReboot() {
        JvmmProcess.Result r =
                run("run", "-k", image("sve-reboot.img"), "--on-reset", "reboot", "-c", "2");
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("SVE-FIRST-BOOT"), r.describe());
        assertTrue(r.out().contains("SVE-REBOOT-OK"), r.describe());
        List<String> vls = VL.matcher(r.out()).results().map(x -> x.group(1)).toList();
        assertEquals(List.of(maxVectorBytes() + "", maxVectorBytes() + ""), vls, r.describe());
    }

    @Test
    void pointerAuthenticationWorksByDefault() {
        JvmmProcess.Result r = run("run", "-k", image("pac.img"));
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("PAC-OK"), r.describe());
        assertTrue(r.out().contains("PAC-AUTH-FAILED-"), r.describe());
    }

    @Test
    void disablePtrauthMakesPacInstructionsUndefined() {
        JvmmProcess.Result r = run("run", "-k", image("pac.img"), "--disable-ptrauth");
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("PAC-UNDEF"), r.describe());
        assertFalse(r.out().contains("PAC-OK"), r.describe());
    }

    @Test
    void noMteWithoutTheOption() {
        JvmmProcess.Result r = run("run", "-k", image("mte.img"));
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("MTE-LEVEL=0"), r.describe());
        assertTrue(r.out().contains("MTE-ABSENT"), r.describe());
    }

    /**
     * The lab starts L1 with MTE (QEMU's mte=on), so its KVM offers it: tags stored with STG read
     * back with LDG. A host without MTE refuses --mte in one line (unit-tested in GuestCpuTest).
     */
    @Test
    void mteStoresAndLoadsAllocationTags() {
        assertEquals(true, caps.get("mte"), "the lab's L1 runs with MTE");
        JvmmProcess.Result r = run("run", "-k", image("mte.img"), "--mte", "--log-level", "info");
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("MTE-TAG=5"), r.describe());
        assertTrue(r.out().contains("MTE-OK"), r.describe());
        assertTrue(r.err().contains(", MTE"), r.describe());
    }

    /** The stock Debian kernel's view: the first "Features" line of /proc/cpuinfo, as words. */
    private static List<String> linuxFeatures(String... extra) {
        JvmmProcess.Result r =
                JvmmProcess.run(
                        Duration.ofMinutes(3),
                        JvmmProcess.debian("grep -m1 ^Features /proc/cpuinfo", extra));
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("JVMM-CMD-EXIT=0"), r.describe());
        String line =
                r.out()
                        .lines()
                        .filter(l -> l.startsWith("Features"))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no Features line\n" + r.describe()));
        return List.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
    }

    /** One boot for the defaults plus --mte (which changes nothing else). */
    @Test
    void linuxSeesSvePointerAuthenticationAndWithMteMte() {
        List<String> f = linuxFeatures("--mte");
        for (String want : List.of("sve", "paca", "pacg", "mte"))
            assertTrue(f.contains(want), want + " missing from " + f);
    }

    @Test
    void linuxSeesNeitherWithTheOffSwitches() {
        List<String> f = linuxFeatures("--disable-sve", "--disable-ptrauth");
        for (String gone : List.of("sve", "paca", "pacg", "mte"))
            assertFalse(f.contains(gone), gone + " in " + f);
        assertTrue(f.contains("asimd"), "the line was parsed: " + f);
    }
}
