package dev.jvmm.core.hypercall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.JvmmException;
import dev.jvmm.core.arch.DeviceTreeInput;
import dev.jvmm.core.hypercall.sdei.HandlerPstate;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DiscoverImplServiceTest {
    static final ImplCpu A72 = new ImplCpu(0x410fd083L, 0x1L, 0x551L);
    static final ImplCpu N1 = new ImplCpu(0x413fd0c1L, 0L, 0L);

    /** A 7.x host's VM after jvmm set VENDOR_HYP_BMAP_2 = 0x3. */
    private static final HypercallServices.Platform NEW =
            new HypercallServices.Platform(
                    DeviceTreeInput.kvmDefaultMpidrs(2),
                    HandlerPstate.PLAIN,
                    0x8000_0000L,
                    256L << 20,
                    0x3,
                    0x3);

    private static HypercallServices served(List<ImplCpu> cpus, boolean shared) {
        return HypercallServices.build(
                new HypercallConfig(false, List.of(), List.of(), shared, cpus), NEW);
    }

    @Test
    void versionReportsAbi10AndTheNumberOfImplementations() {
        FakeRegisters regs = new FakeRegisters().call(DiscoverImplService.VER);
        served(List.of(A72, N1), false).router().handle(0, DiscoverImplService.VER, false, regs);
        assertEquals(
                List.of(0L, 0x10000L, 2L, 0L), List.of(regs.x(0), regs.x(1), regs.x(2), regs.x(3)));
    }

    @Test
    void cpusAnswersEachIndexInOrderAndRefusesThePast() {
        HypercallServices s = served(List.of(A72, N1), false);
        FakeRegisters regs = new FakeRegisters();
        long[][] want = {{0, 0x410fd083L, 1, 0x551}, {0, 0x413fd0c1L, 0, 0}};
        for (int i = 0; i < want.length; i++) {
            regs.call(DiscoverImplService.CPUS, i);
            s.router().handle(1, DiscoverImplService.CPUS, false, regs);
            assertEquals(
                    List.of(want[i][0], want[i][1], want[i][2], want[i][3]),
                    List.of(regs.x(0), regs.x(1), regs.x(2), regs.x(3)),
                    "index " + i);
        }
        // past the end, a negative index and one with high bits (SMC64: all 64 bits count)
        for (long bad : new long[] {2, -1, 1L << 32}) {
            regs.call(DiscoverImplService.CPUS, bad).with(dev.jvmm.kvm.RegIds.x(2), 7);
            s.router().handle(0, DiscoverImplService.CPUS, false, regs);
            assertEquals(Smccc.INVALID_PARAMETER, regs.x(0), "index " + bad);
            assertEquals(0L, regs.x(1), "index " + bad);
        }
    }

    @Test
    void bothIdsAreForwardedAndFeaturesAdvertiseThemWithSharedRegions() {
        HypercallServices s = served(List.of(A72), true);
        assertTrue(
                s.router()
                        .filterRanges()
                        .contains(
                                new FilterRange(
                                        FunctionRange.parse("0xC6000040-0xC6000041"),
                                        FilterRange.Action.FWD_TO_USER)),
                s.router().filterRanges().toString());
        FakeRegisters regs = new FakeRegisters().call(VendorHypFeatures.FEATURES_FUNC_ID);
        s.router().handle(0, VendorHypFeatures.FEATURES_FUNC_ID, false, regs);
        assertEquals(
                0x3L, regs.x(2), "function numbers 64, 65: VENDOR_HYP_BMAP_2 as the VM has it");
        regs.call(DiscoverImplService.VER);
        s.router().handle(0, DiscoverImplService.VER, false, regs);
        assertEquals(1L, s.router().callCounts().get(Smccc.unsigned(DiscoverImplService.VER)));
    }

    @Test
    void noImplCpuNoService() {
        HypercallServices s = served(List.of(), false);
        assertEquals(List.of(), s.router().filterRanges());
        assertThrows(IllegalArgumentException.class, () -> new DiscoverImplService(List.of()));
    }

    @Test
    void atMost64Implementations() {
        List<ImplCpu> many = Collections.nCopies(ImplCpu.MAX + 1, A72);
        var e =
                assertThrows(
                        JvmmException.class,
                        () -> new HypercallConfig(false, List.of(), List.of(), false, many));
        assertEquals("--impl-cpu given 65 times; at most 64 CPU implementations", e.getMessage());
        assertEquals(
                ImplCpu.MAX,
                new HypercallConfig(false, List.of(), List.of(), false, many.subList(0, 64))
                        .implCpus()
                        .size());
    }

    @Test
    void parseTakesMidrRevidrAidrAndDefaultsTheLastTwo() {
        assertEquals(A72, ImplCpu.parse("midr=0x410fd083,revidr=1,aidr=0x551"));
        assertEquals(A72, ImplCpu.parse(" AIDR=0x551 , revidr=0x1,midr=0x410FD083"));
        assertEquals(N1, ImplCpu.parse("midr=0x413fd0c1"));
        assertEquals(
                new ImplCpu(-1L, 0, 0), ImplCpu.parse("midr=0xffffffffffffffff"), "64-bit values");
        assertEquals(A72, ImplCpu.parse(A72.toString()), "toString reads back");
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "revidr=1|midr= is missing",
                "midr=0x1,midr=0x2|midr given twice",
                "midr=0x1,cpu=3|'cpu=3' is not midr=, revidr= or aidr=",
                "midr|'midr' is not midr=, revidr= or aidr=",
                "midr=zz|midr=zz is not a 64-bit number",
                "midr=0x|midr=0x is not a 64-bit number",
                "midr=0x1ffffffffffffffff|midr=0x1ffffffffffffffff is not a 64-bit number",
                "midr=-1|midr=-1 is not a 64-bit number",
            })
    void badTextIsNamed(String text, String why) {
        var e = assertThrows(IllegalArgumentException.class, () -> ImplCpu.parse(text));
        assertEquals(
                "bad CPU implementation '"
                        + text
                        + "': "
                        + why
                        + " (use midr=VALUE[,revidr=VALUE][,aidr=VALUE], e.g. midr=0x410fd0c0)",
                e.getMessage());
    }
}
