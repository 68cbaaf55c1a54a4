package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.hypercall.HypercallConfig;
import dev.jvmm.core.hypercall.sdei.SdeiEventSpec;
import dev.jvmm.core.hypercall.sdei.SignalOutcome;
import dev.jvmm.kvm.testing.Arm64KvmCondition;
import dev.jvmm.kvm.testing.BootTest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An out-of-tree module (guest-images/modules/sdei_test) built for the stock Debian guest kernel
 * registers and enables SDEI event 100 through Linux's SDEI driver; the host raises it with {@link
 * Machine#sdeiSignal} and the module's handler runs. The module is compiled in L1 with the kernel's
 * own compiler and headers (build-in-l1.sh in the lab's module build root; cached) and appended to
 * the test initramfs as a second cpio archive. Between the registration and the event the guest is
 * snapshotted, stopped and rebuilt from the snapshot (as {@code jvmm run --restore} does): the
 * handler the restored guest runs is the one the module registered before.
 */
@BootTest
class SdeiModuleBootTest {
    private static final Duration BUILD_LIMIT = Duration.ofMinutes(20),
            BOOT = Duration.ofMinutes(4);

    private static Path repo() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("guest-images/modules"))) return p;
        }
        throw new IllegalStateException(
                "no guest-images/modules above " + Path.of("").toAbsolutePath());
    }

    private static Path buildModule() throws Exception {
        Path lab = Arm64KvmCondition.images().getParent();
        Path out = lab.resolve("build/modules");
        Path script = repo().resolve("guest-images/modules/build-in-l1.sh");
        Process p =
                new ProcessBuilder(
                                "sh",
                                script.toString(),
                                lab.resolve("build/modroot").toString(),
                                repo().resolve("guest-images/modules/sdei_test").toString(),
                                out.toString())
                        .redirectErrorStream(true)
                        .start();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Thread pump =
                Thread.ofPlatform()
                        .start(
                                () -> {
                                    try {
                                        p.getInputStream().transferTo(log);
                                    } catch (java.io.IOException e) {
                                        log.writeBytes(
                                                ("(reading the build's output failed: "
                                                                + e.getMessage()
                                                                + ")\n")
                                                        .getBytes(StandardCharsets.UTF_8));
                                    }
                                });
        boolean done = p.waitFor(BUILD_LIMIT.toMinutes(), TimeUnit.MINUTES);
        if (!done) p.destroyForcibly();
        pump.join(5000);
        assertTrue(
                done && p.exitValue() == 0,
                "module build failed:\n" + log.toString(StandardCharsets.UTF_8));
        return out.resolve("sdei_test.ko");
    }

    @Test
    void moduleHandlerRunsWhenTheHostRaisesItsEvent(@TempDir Path dir) throws Exception {
        byte[] ko = Files.readAllBytes(buildModule());
        Path initrd = dir.resolve("initrd");
        byte[] base = Files.readAllBytes(Arm64KvmCondition.images().resolve("initramfs.gz"));
        byte[] extra =
                new NewcCpio()
                        .directory("lib")
                        .directory("lib/modules-jvmm")
                        .file("lib/modules-jvmm/sdei_test.ko", ko)
                        .gzip();
        ByteArrayOutputStream both = new ByteArrayOutputStream();
        both.writeBytes(base);
        both.writeBytes(extra);
        Files.write(initrd, both.toByteArray());

        String shell =
                "insmod /lib/modules-jvmm/sdei_test.ko event=100 && echo MODULE-READY && "
                        + "while [ \"$(cat /sys/module/sdei_test/parameters/fired)\" = 0 ]; do sleep 1; done && "
                        + "echo FIRED=$(cat /sys/module/sdei_test/parameters/fired) && dmesg | grep sdei";
        String cmdline =
                "console=ttyS0 quiet jvmm.cmd="
                        + Base64.getEncoder()
                                .encodeToString(shell.getBytes(StandardCharsets.UTF_8));
        HypercallConfig sdei =
                new HypercallConfig(
                        true, List.of(SdeiEventSpec.parse("100,private,normal")), List.of(), false);
        Path snap = dir.resolve("snap");
        try (GuestRun g =
                new GuestRun(
                        Arm64KvmCondition.images().resolve("Image"),
                        initrd,
                        cmdline,
                        2,
                        256,
                        sdei,
                        BOOT)) {
            assertTrue(g.await("MODULE-READY", BOOT), g.describe());
            // the module's registration lives in the snapshot: the event is raised only after
            // the guest was stopped and rebuilt from it
            g.machine.snapshot(snap, true);
            VmResult stopped = g.finish(BOOT);
            assertEquals(VmResult.Reason.STOPPED_BY_API, stopped.reason(), g.describe());
            assertFalse(g.console().contains("FIRED="), g.describe());
        }
        try (GuestRun g = GuestRun.restored(snap, BOOT)) {
            assertEquals(SignalOutcome.QUEUED, g.machine.sdeiSignal(100, 1));
            VmResult r = g.finish(BOOT);
            assertEquals(VmResult.Reason.POWEROFF, r.reason(), g.describe());
            String out = g.console();
            assertTrue(out.contains("FIRED=1"), g.describe());
            // the kernel log the restored guest prints holds the registration made before
            assertTrue(out.contains("sdei_test: event 100 registered and enabled"), g.describe());
            assertTrue(
                    out.contains("sdei_test: event 100 handled 1 time(s), last on CPU 1"),
                    g.describe());
            assertTrue(out.contains("JVMM-CMD-EXIT=0"), g.describe());
            assertFalse(out.contains("JVMM-BOOT-OK"), "no second boot\n" + g.describe());
        }
    }
}
