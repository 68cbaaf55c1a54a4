package dev.jvmm.core.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.UnsupportedRequestException;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuestCpuTest {
    private static final CpuOffer ALL = new CpuOffer(true, true, true, true);
    private static final CpuOffer NONE = new CpuOffer(false, false, false, false);
    private static final CpuFeatures MTE =
            new CpuFeatures(CpuFeatures.Irqchip.GICV3, false, true, true, true);
    private static final CpuFeatures OFF =
            new CpuFeatures(CpuFeatures.Irqchip.GICV3, false, false, false, false);

    @Test
    void sveAndPtrauthAreOnByDefaultWhereOffered() {
        GuestCpu g = GuestCpu.decide(CpuFeatures.DEFAULT, ALL);
        assertEquals(new GuestCpu(true, true, false), g);
    }

    @Test
    void aHostWithoutThemRunsWithoutThemAndSaysWhy() {
        GuestCpu g = GuestCpu.decide(CpuFeatures.DEFAULT, NONE);
        assertEquals(new GuestCpu(false, false, false), g);
        assertEquals(
                "vCPUs: no SVE (not offered by KVM), no PAuth (not offered by KVM), no MTE",
                g.describe(CpuFeatures.DEFAULT, NONE, List.of()));
    }

    @Test
    void theSwitchesTurnThemOff() {
        GuestCpu g = GuestCpu.decide(OFF, ALL);
        assertEquals(new GuestCpu(false, false, false), g);
        assertEquals(
                "vCPUs: no SVE (--disable-sve), no PAuth (--disable-ptrauth), no MTE",
                g.describe(OFF, ALL, List.of()));
    }

    @Test
    void ptrauthNeedsBothKinds() {
        assertFalse(
                GuestCpu.decide(CpuFeatures.DEFAULT, new CpuOffer(true, true, false, false))
                        .ptrauth());
        assertFalse(
                GuestCpu.decide(CpuFeatures.DEFAULT, new CpuOffer(true, false, true, false))
                        .ptrauth());
    }

    @Test
    void mteIsGrantedWhereOfferedAndRefusedInOneLineElsewhere() {
        assertTrue(GuestCpu.decide(MTE, ALL).mte());
        UnsupportedRequestException e =
                assertThrows(
                        UnsupportedRequestException.class,
                        () -> GuestCpu.decide(MTE, new CpuOffer(true, true, true, false)));
        assertTrue(e.getMessage().startsWith("--mte: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void describeGivesTheVectorLengthRange() {
        GuestCpu g = GuestCpu.decide(MTE, ALL);
        assertEquals(
                "vCPUs: SVE (VL 128..2048 bits), PAuth, MTE",
                g.describe(MTE, ALL, List.of(128, 256, 512, 1024, 2048)));
        assertEquals("vCPUs: SVE (VL 128 bits), PAuth, MTE", g.describe(MTE, ALL, List.of(128)));
    }
}
