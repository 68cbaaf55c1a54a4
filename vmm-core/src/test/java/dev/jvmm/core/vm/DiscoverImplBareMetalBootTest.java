package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.UnsupportedRequestException;
import dev.jvmm.core.firmware.BitmapRegister;
import dev.jvmm.core.firmware.FirmwareConfig;
import dev.jvmm.core.firmware.HypercallSelection;
import dev.jvmm.core.hypercall.HypercallConfig;
import dev.jvmm.core.hypercall.ImplCpu;
import dev.jvmm.kvm.testing.BootTest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * DISCOVER_IMPL_VER and DISCOVER_IMPL_CPUS served by jvmm from --impl-cpu, seen by the bare-metal
 * guest discover-impl.img. The calls are answered on every KVM with the SMCCC filter; whether the
 * guest can discover them through KVM_FEATURES depends on VENDOR_HYP_BMAP_2 (Linux 6.15+): the lab
 * runs this class under both L1 kernels (LAB_KERNEL=new for the register), and under LAB_KERNEL=new
 * the register must be there.
 */
@BootTest
class DiscoverImplBareMetalBootTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static HypercallConfig impl(ImplCpu... cpus) {
        return new HypercallConfig(false, List.of(), List.of(), false, List.of(cpus));
    }

    private static String hex(long v) {
        return String.format("0x%016x", v);
    }

    private static String line(String name, long x0, long x1) {
        return "R " + name + " x0=" + hex(x0) + " x1=" + hex(x1) + "\r\n";
    }

    private static String run(GuestRun g) throws InterruptedException {
        VmResult r = g.finish(WAIT);
        assertEquals(VmResult.Reason.POWEROFF, r.reason(), g.describe());
        assertTrue(g.console().contains("IMPL DONE"), g.describe());
        return g.console();
    }

    /** Whether this host's KVM has VENDOR_HYP_BMAP_2, as the machine found it. */
    private static boolean bitmap2(Machine m) {
        boolean has = m.firmware().bitmaps().hasRegister(BitmapRegister.VENDOR_HYP_2);
        if ("new".equals(System.getenv("LAB_KERNEL")))
            assertTrue(has, "the lab's newer L1 kernel must have VENDOR_HYP_BMAP_2");
        return has;
    }

    @Test
    void answersFromTheListAndAdvertisesWhereTheRegisterExists() throws Exception {
        ImplCpu a = ImplCpu.parse("midr=0x410fd083,revidr=0x1,aidr=0x551");
        ImplCpu b = ImplCpu.parse("midr=0x413fd0c1");
        try (GuestRun g = new GuestRun("discover-impl.img", 1, 64, impl(a, b))) {
            String out = run(g);
            // KVM answers FEATURES: x2 is VENDOR_HYP_BMAP_2 as the VM has it, which --impl-cpu
            // sets to both services where the register exists
            long want = bitmap2(g.machine) ? 0x3 : 0;
            assertEquals(
                    want,
                    g.machine
                            .firmware()
                            .bitmaps()
                            .values()
                            .getOrDefault(BitmapRegister.VENDOR_HYP_2, 0L));
            assertTrue(out.contains(line("features(x0,x2)", 0x3, want)), g.describe());
            for (String l :
                    List.of(
                            line("ver(x0,x1)", 0, 0x10000),
                            line("ver(x2)", 2, 0),
                            line("cpus 0 (x0,x1)", 0, 0x410fd083L),
                            line("cpus 0 (x2,x3)", 0x1, 0x551),
                            line("cpus 1 (x0,x1)", 0, 0x413fd0c1L),
                            line("cpus 1 (x2,x3)", 0, 0),
                            line("cpus 2 (x0,x1)", -3, 0),
                            line("cpus 2 (x2,x3)", 0, 0))) {
                assertTrue(out.contains(l), "missing: " + l + g.describe());
            }
            assertEquals(
                    3L, g.machine.hypercallCounts().get(0xC6000041L), "three CPUS calls, counted");
        }
    }

    @Test
    void withoutImplCpuKvmRefusesTheCalls() throws Exception {
        try (GuestRun g = new GuestRun("discover-impl.img", 1, 64, HypercallConfig.NONE)) {
            String out = run(g);
            assertTrue(out.contains(line("features(x0,x2)", 0x3, 0)), g.describe());
            assertTrue(out.contains(line("ver(x0,x1)", -1, 0)), g.describe());
            assertTrue(g.machine.hypercallCounts().isEmpty(), "nothing forwarded");
        }
    }

    /**
     * --hypercalls edits the register where it exists (hiding DISCOVER_IMPL_VER leaves bit 1), and
     * is refused by name where it does not.
     */
    @Test
    void hypercallsSelectTheBitsOrAreRefusedWithoutTheRegister() throws Exception {
        ImplCpu a = ImplCpu.parse("midr=0x410fd083");
        boolean has;
        try (GuestRun g =
                new GuestRun(
                        "discover-impl.img",
                        1,
                        64,
                        impl(a),
                        new FirmwareConfig(
                                HypercallSelection.parse("-discover-impl-ver"), true, null))) {
            has = bitmap2(g.machine);
            String out = run(g);
            assertTrue(out.contains(line("features(x0,x2)", 0x3, has ? 0x2 : 0)), g.describe());
            // the call itself is still jvmm's: the bitmap only decides what FEATURES advertises
            assertTrue(out.contains(line("ver(x2)", 1, 0)), g.describe());
        }
        if (has) return;
        var e =
                assertThrows(
                        UnsupportedRequestException.class,
                        () ->
                                new GuestRun(
                                                "discover-impl.img",
                                                1,
                                                64,
                                                impl(a),
                                                new FirmwareConfig(
                                                        HypercallSelection.parse(
                                                                "+discover-impl-ver"),
                                                        true,
                                                        null))
                                        .close());
        assertEquals(
                "--hypercalls discover-impl-ver: this host's KVM has no VENDOR_HYP_BMAP_2"
                        + " register, so jvmm cannot select the service",
                e.getMessage());
        assertFalse(e.getMessage().contains("Exception"));
    }
}
