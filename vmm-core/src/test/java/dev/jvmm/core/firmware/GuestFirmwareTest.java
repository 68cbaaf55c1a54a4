package dev.jvmm.core.firmware;

import static dev.jvmm.core.firmware.BitmapRegister.STD;
import static dev.jvmm.core.firmware.BitmapRegister.STD_HYP;
import static dev.jvmm.core.firmware.BitmapRegister.VENDOR_HYP;
import static dev.jvmm.core.firmware.HypercallSelectionTest.LAB;
import static dev.jvmm.core.firmware.HypercallSelectionTest.NEW;
import static dev.jvmm.core.firmware.HypercallSelectionTest.OLD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.UnsupportedRequestException;
import dev.jvmm.core.arch.PsciVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GuestFirmwareTest {
    private final List<String> warnings = new ArrayList<>();

    private GuestFirmware decide(
            String hypercalls, boolean pvTime, String psci, HostFirmware host) {
        FirmwareConfig cfg =
                new FirmwareConfig(
                        HypercallSelection.parse(hypercalls),
                        pvTime,
                        psci == null ? null : PsciVersion.parse(psci));
        return GuestFirmware.decide(cfg, host, warnings::add);
    }

    private static HostFirmware withoutPvAttr(HostFirmware h) {
        return new HostFirmware(h.psci(), h.bitmaps(), false);
    }

    @Test
    void defaultsAreKvmsDefaultsWithPvTimeOnAndNothingWritten() {
        GuestFirmware fw = GuestFirmware.decide(FirmwareConfig.DEFAULT, LAB, warnings::add);
        assertEquals(PsciVersion.V1_1, fw.psci());
        assertEquals(Optional.empty(), fw.psciWrite());
        assertEquals(Map.of(), fw.bitmaps().changed());
        assertTrue(fw.pvTime());
        assertEquals(List.of(), warnings);
        assertEquals(
                "guest firmware: PSCI 1.1; hypercall services trng, pv-time, kvm-features, ptp (hidden: none;"
                        + " STD_BMAP=0x1 STD_HYP_BMAP=0x1 VENDOR_HYP_BMAP=0x3); PV stolen time on (64-byte records from 0x1020000)",
                fw.describe(0x1020000));
    }

    @Test
    void noPvtimeAndMinusPvTimeAgree() {
        GuestFirmware a = decide("all", false, null, LAB);
        GuestFirmware b = decide("-pv-time", true, null, LAB);
        for (GuestFirmware fw : List.of(a, b)) {
            assertFalse(fw.pvTime());
            assertFalse(fw.bitmaps().offers(HypercallService.PV_TIME));
            assertEquals(Map.of(STD_HYP, 0L), fw.bitmaps().changed());
        }
        assertEquals(List.of(), warnings);
    }

    @Test
    void aListWithoutPvTimeHasNoRecords() {
        GuestFirmware fw = decide("trng,kvm-features,ptp", true, null, LAB);
        assertFalse(fw.pvTime());
        assertEquals(Map.of(STD_HYP, 0L), fw.bitmaps().changed());
    }

    @Test
    void noPvtimeOnAHostWithoutTheRegisterJustSetsNoIpa() {
        GuestFirmware fw = decide("all", false, null, OLD);
        assertFalse(fw.pvTime());
        assertEquals(Map.of(), fw.bitmaps().changed());
    }

    @Test
    void hostWithoutThePvTimeAttributeWarnsOnceAndHidesTheService() {
        GuestFirmware fw = decide("all", true, null, withoutPvAttr(LAB));
        assertFalse(fw.pvTime());
        assertFalse(
                fw.bitmaps().offers(HypercallService.PV_TIME),
                "the guest must not find a service with no record");
        assertEquals(Map.of(STD_HYP, 0L), fw.bitmaps().changed());
        assertEquals(
                List.of(
                        "PV stolen time: this host's KVM lacks the KVM_ARM_VCPU_PVTIME_IPA vCPU attribute;"
                                + " the guest runs without it"),
                warnings);
    }

    @Test
    void explicitPvTimeOnAHostWithoutTheAttributeIsAnError() {
        var e =
                assertThrows(
                        UnsupportedRequestException.class,
                        () -> decide("+pv-time", true, null, withoutPvAttr(LAB)));
        assertEquals(
                "--hypercalls pv-time: this host's KVM cannot provide PV stolen time (no KVM_ARM_VCPU_PVTIME_IPA"
                        + " vCPU attribute)",
                e.getMessage());
    }

    @Test
    void hostWhoseLimitLacksPvTimeWarns() {
        HostFirmware h =
                new HostFirmware(
                        PsciVersion.V1_1, Map.of(STD, 1L, STD_HYP, 0L, VENDOR_HYP, 3L), true);
        assertFalse(decide("all", true, null, h).pvTime());
        assertEquals(
                List.of(
                        "PV stolen time: this host's KVM does not offer the pv-time service; the guest runs without it"),
                warnings);
    }

    @Test
    void ptpWithoutKvmFeaturesWarnsThatTheGuestCannotFindIt() {
        GuestFirmware fw = decide("-kvm-features", true, null, LAB);
        assertEquals(Map.of(VENDOR_HYP, 0x2L), fw.bitmaps().changed());
        assertEquals(
                List.of(
                        "--hypercalls: ptp is offered but a guest cannot discover it without kvm-features"),
                warnings);
    }

    @Test
    void psciVersionsUpToTheHostsAreWrittenWhenTheyDiffer() {
        assertEquals(Optional.of(PsciVersion.V1_0), decide("all", true, "1.0", LAB).psciWrite());
        assertEquals(PsciVersion.V1_0, decide("all", true, "1.0", LAB).psci());
        assertEquals(Optional.of(PsciVersion.V0_2), decide("all", true, "0.2", LAB).psciWrite());
        assertEquals(Optional.empty(), decide("all", true, "1.1", LAB).psciWrite());
        assertEquals(Optional.of(PsciVersion.V1_2), decide("all", true, "1.2", NEW).psciWrite());
        var e =
                assertThrows(
                        UnsupportedRequestException.class, () -> decide("all", true, "1.3", LAB));
        assertEquals("--psci 1.3: this host's KVM implements PSCI up to 1.1", e.getMessage());
    }

    @Test
    void psci01IsAFeatureChoiceNotAWriteAndWarns() {
        // with --psci 0.1 the vCPUs are initialised without PSCI_0_2, and KVM then reports 0.1
        // itself
        HostFirmware h01 = new HostFirmware(PsciVersion.V0_1, LAB.bitmaps(), true);
        GuestFirmware fw = decide("all", true, "0.1", h01);
        assertEquals(PsciVersion.V0_1, fw.psci());
        assertEquals(Optional.empty(), fw.psciWrite());
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).startsWith("--psci 0.1 has no SYSTEM_OFF"), warnings.get(0));
    }

    @Test
    void hostWithoutThePsciRegisterAllowsOnly02() {
        HostFirmware h = new HostFirmware(null, Map.of(), true);
        assertEquals(
                PsciVersion.V0_2,
                GuestFirmware.decide(FirmwareConfig.DEFAULT, h, warnings::add).psci());
        assertEquals(Optional.empty(), decide("all", true, "0.2", h).psciWrite());
        var e =
                assertThrows(
                        UnsupportedRequestException.class, () -> decide("all", true, "1.0", h));
        assertEquals(
                "--psci 1.0: this host's KVM has no PSCI_VERSION register and implements PSCI 0.2 only",
                e.getMessage());
    }

    @Test
    void configRefusesNoPvtimeWithAnExplicitPvTime() {
        for (String h : new String[] {"+pv-time", "trng,pv-time"}) {
            var e =
                    assertThrows(
                            dev.jvmm.core.JvmmException.class,
                            () -> new FirmwareConfig(HypercallSelection.parse(h), false, null));
            assertTrue(
                    e.getMessage().startsWith("--no-pvtime contradicts --hypercalls "),
                    e.getMessage());
        }
        assertFalse(new FirmwareConfig(HypercallSelection.ALL, false, null).wantsPvTime());
        assertTrue(new FirmwareConfig(HypercallSelection.ALL, true, PsciVersion.V1_0).psci02());
        assertFalse(new FirmwareConfig(HypercallSelection.ALL, true, PsciVersion.V0_1).psci02());
    }
}
