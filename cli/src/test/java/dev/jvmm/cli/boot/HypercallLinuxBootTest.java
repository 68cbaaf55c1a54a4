package dev.jvmm.cli.boot;

import static dev.jvmm.cli.boot.JvmmProcess.guestCommand;
import static dev.jvmm.cli.boot.JvmmProcess.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.testing.BootTest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stock Debian kernel against jvmm's SDEI dispatcher (--sdei), as a user runs it. */
@BootTest
class HypercallLinuxBootTest {
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(3);

    /**
     * Linux finds /firmware/sdei, probes SDEI_VERSION, resets, unmasks every CPU; taking CPU 1
     * offline masks it (cpuhp down: PE_MASK on that CPU), bringing it back unmasks it.
     */
    @Test
    void debianKernelDetectsSdeiAndCpuHotplugMasksAndUnmasksThePe() {
        String cmd =
                "echo 0 > /sys/devices/system/cpu/cpu1/online && echo CPU1-OFF && "
                        + "echo 1 > /sys/devices/system/cpu/cpu1/online && echo CPU1-ON && dmesg | grep -i sdei";
        JvmmProcess.Result r =
                JvmmProcess.run(
                        BOOT_LIMIT,
                        "run",
                        "-k",
                        image("Image"),
                        "-i",
                        image("initramfs.gz"),
                        "-c",
                        "2",
                        "-m",
                        "256",
                        "--sdei",
                        "--log-level",
                        "info",
                        "-p",
                        "quiet " + guestCommand(cmd));
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("JVMM-CMD-EXIT=0"), r.describe());
        List<String> sdeiLines = r.out().lines().filter(l -> l.contains("sdei")).toList();
        assertEquals(
                1,
                sdeiLines.size(),
                "exactly one sdei line (the detection), no error:\n" + r.describe());
        assertTrue(
                sdeiLines.get(0).endsWith("sdei: SDEIv1.1 (0x4a564d) detected in firmware."),
                r.describe());

        List<String> pe1 = r.err().lines().filter(l -> l.contains("sdei: vcpu 1 ")).toList();
        assertTrue(pe1.size() >= 3, r.describe());
        assertEquals(
                List.of(
                        "jvmm: info: sdei: vcpu 1 unmasked",
                        "jvmm: info: sdei: vcpu 1 masked",
                        "jvmm: info: sdei: vcpu 1 unmasked"),
                pe1.subList(0, 3),
                "boot, offline, online\n" + r.describe());
        int off = r.out().indexOf("CPU1-OFF"), on = r.out().indexOf("CPU1-ON");
        assertTrue(off > 0 && on > off, r.describe());
        assertTrue(
                r.err().contains("forwarded hypercalls: 0xC4000020 x1,"),
                "SDEI_VERSION once\n" + r.describe());
    }
}
