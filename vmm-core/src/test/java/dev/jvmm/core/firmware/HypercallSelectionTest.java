package dev.jvmm.core.firmware;

import static dev.jvmm.core.firmware.BitmapRegister.STD;
import static dev.jvmm.core.firmware.BitmapRegister.STD_HYP;
import static dev.jvmm.core.firmware.BitmapRegister.VENDOR_HYP;
import static dev.jvmm.core.firmware.BitmapRegister.VENDOR_HYP_2;
import static dev.jvmm.core.firmware.HypercallService.DISCOVER_IMPL_CPUS;
import static dev.jvmm.core.firmware.HypercallService.DISCOVER_IMPL_VER;
import static dev.jvmm.core.firmware.HypercallService.KVM_FEATURES;
import static dev.jvmm.core.firmware.HypercallService.PTP;
import static dev.jvmm.core.firmware.HypercallService.PV_TIME;
import static dev.jvmm.core.firmware.HypercallService.TRNG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.UnsupportedRequestException;
import dev.jvmm.core.arch.PsciVersion;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HypercallSelectionTest {
    /** Linux 6.12 arm64 (the lab): every service, no VENDOR_HYP_BMAP_2. */
    static final HostFirmware LAB =
            new HostFirmware(
                    PsciVersion.V1_1, Map.of(STD, 0x1L, STD_HYP, 0x1L, VENDOR_HYP, 0x3L), true);

    /** A 6.16-style host: VENDOR_HYP_BMAP_2 exists and resets to 0. */
    static final HostFirmware NEW =
            new HostFirmware(
                    PsciVersion.V1_3,
                    Map.of(STD, 0x1L, STD_HYP, 0x1L, VENDOR_HYP, 0x3L, VENDOR_HYP_2, 0L),
                    true);

    /** A host without TRNG or PTP in its limits. */
    static final HostFirmware SPARSE =
            new HostFirmware(
                    PsciVersion.V1_1, Map.of(STD, 0x0L, STD_HYP, 0x1L, VENDOR_HYP, 0x1L), true);

    /** Linux before 5.19: no bitmap registers at all. */
    static final HostFirmware OLD = new HostFirmware(PsciVersion.V1_0, Map.of(), true);

    private static HypercallSelection sel(
            boolean fromAll, Set<HypercallService> add, Set<HypercallService> remove) {
        return new HypercallSelection(fromAll, add, remove);
    }

    @Test
    void parseNormalisesEveryForm() {
        assertEquals(HypercallSelection.ALL, HypercallSelection.parse("all"));
        assertEquals(sel(false, Set.of(), Set.of()), HypercallSelection.parse("none"));
        assertEquals(sel(true, Set.of(), Set.of(PTP)), HypercallSelection.parse("-ptp"));
        assertEquals(
                sel(true, Set.of(), Set.of(TRNG, PTP)), HypercallSelection.parse("-trng,-ptp"));
        assertEquals(sel(false, Set.of(TRNG, PTP), Set.of()), HypercallSelection.parse("trng,ptp"));
        assertEquals(sel(false, Set.of(TRNG), Set.of()), HypercallSelection.parse("none,+trng"));
        assertEquals(sel(true, Set.of(PTP), Set.of()), HypercallSelection.parse("+ptp"));
        assertEquals(
                sel(true, Set.of(), Set.of(PTP)),
                HypercallSelection.parse("+ptp,-ptp"),
                "the later edit wins");
        assertEquals(sel(true, Set.of(PTP), Set.of()), HypercallSelection.parse("-ptp,ptp"));
        assertEquals(
                sel(true, Set.of(), Set.of()),
                HypercallSelection.parse("-ptp,all"),
                "all starts over");
        assertEquals(sel(false, Set.of(), Set.of()), HypercallSelection.parse("trng,none"));
        assertEquals(
                sel(true, Set.of(), Set.of(PV_TIME, KVM_FEATURES)),
                HypercallSelection.parse(" -PV-Time , -kvm-features "));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "foo|unknown hypercall service 'foo' (known: trng, pv-time, kvm-features, ptp, discover-impl-ver, discover-impl-cpus; or all, none)",
                "+|unknown hypercall service '' (known: trng, pv-time, kvm-features, ptp, discover-impl-ver, discover-impl-cpus; or all, none)",
                "-trng,+pvtime|unknown hypercall service 'pvtime' (known: trng, pv-time, kvm-features, ptp, discover-impl-ver, discover-impl-cpus; or all, none)",
                "trng,,ptp|'trng,,ptp': empty item in the list (known services: trng, pv-time, kvm-features, ptp, discover-impl-ver, discover-impl-cpus; or all, none)",
            })
    void badItemsAreNamed(String text, String message) {
        assertEquals(
                message,
                assertThrows(IllegalArgumentException.class, () -> HypercallSelection.parse(text))
                        .getMessage());
    }

    @Test
    void emptyValueIsAnError() {
        var e = assertThrows(IllegalArgumentException.class, () -> HypercallSelection.parse(""));
        assertTrue(e.getMessage().startsWith("'': empty item"), e.getMessage());
    }

    @Test
    void toStringParsesBackToTheSameSelection() {
        for (String s :
                new String[] {
                    "all", "none", "-ptp,-trng", "trng,kvm-features,ptp", "+ptp,-pv-time"
                }) {
            HypercallSelection h = HypercallSelection.parse(s);
            assertEquals(h, HypercallSelection.parse(h.toString()), s + " -> " + h);
        }
        assertEquals("all,-trng,-ptp", HypercallSelection.parse("-ptp,-trng").toString());
        assertEquals("none,+trng,+ptp", HypercallSelection.parse("ptp,trng").toString());
    }

    @Test
    void mayOfferAndWithout() {
        HypercallSelection s = HypercallSelection.parse("trng,pv-time");
        assertTrue(s.mayOffer(PV_TIME));
        assertFalse(s.mayOffer(PTP));
        assertFalse(s.without(PV_TIME).mayOffer(PV_TIME));
        assertEquals(sel(false, Set.of(TRNG), Set.of(PV_TIME)), s.without(PV_TIME));
        assertTrue(HypercallSelection.ALL.mayOffer(PTP));
    }

    @Test
    void allIsTheHostDefaultAndNeedsNoWrite() {
        ServiceBitmaps b = HypercallSelection.ALL.resolve(LAB);
        assertEquals(Map.of(STD, 0x1L, STD_HYP, 0x1L, VENDOR_HYP, 0x3L), b.values());
        assertEquals(Map.of(), b.changed());
        for (HypercallService s : EnumSet.of(TRNG, PV_TIME, KVM_FEATURES, PTP))
            assertTrue(b.offers(s), s.toString());
        assertFalse(b.offers(DISCOVER_IMPL_VER), "no VENDOR_HYP_BMAP_2 on 6.12");
    }

    @Test
    void editsClearAndSetExactlyTheirBits() {
        assertEquals(
                Map.of(VENDOR_HYP, 0x1L), HypercallSelection.parse("-ptp").resolve(LAB).changed());
        assertEquals(Map.of(STD, 0x0L), HypercallSelection.parse("-trng").resolve(LAB).changed());
        assertEquals(
                Map.of(STD, 0x0L, STD_HYP, 0x0L, VENDOR_HYP, 0x0L),
                HypercallSelection.parse("none").resolve(LAB).changed());
        assertEquals(
                Map.of(STD_HYP, 0x0L, VENDOR_HYP, 0x2L),
                HypercallSelection.parse("trng,ptp").resolve(LAB).changed());
        ServiceBitmaps b = HypercallSelection.parse("none,+kvm-features").resolve(LAB);
        assertEquals(Map.of(STD, 0L, STD_HYP, 0L, VENDOR_HYP, 0x1L), b.values());
        assertEquals(
                "kvm-features (hidden: trng, pv-time, ptp; STD_BMAP=0x0 STD_HYP_BMAP=0x0 VENDOR_HYP_BMAP=0x1)",
                b.describe());
    }

    @Test
    void allKeepsBitsJvmmDoesNotKnowAndNoneClearsThem() {
        HostFirmware future =
                new HostFirmware(
                        PsciVersion.V1_3, Map.of(STD, 0x1L, STD_HYP, 0x1L, VENDOR_HYP, 0x7L), true);
        assertEquals(
                0x7L, HypercallSelection.parse("all").resolve(future).values().get(VENDOR_HYP));
        assertEquals(
                0x5L, HypercallSelection.parse("-ptp").resolve(future).values().get(VENDOR_HYP));
        assertEquals(
                0x0L, HypercallSelection.parse("none").resolve(future).values().get(VENDOR_HYP));
    }

    @Test
    void askingForAServiceTheHostLacksNamesIt() {
        var e =
                assertThrows(
                        UnsupportedRequestException.class,
                        () -> HypercallSelection.parse("+ptp").resolve(SPARSE));
        assertEquals(
                "--hypercalls ptp: not offered by this host's KVM (VENDOR_HYP_BMAP limit 0x1)",
                e.getMessage());
        e =
                assertThrows(
                        UnsupportedRequestException.class,
                        () -> HypercallSelection.parse("trng").resolve(SPARSE));
        assertEquals(
                "--hypercalls trng: not offered by this host's KVM (STD_BMAP limit 0x0)",
                e.getMessage());
        // not asked for explicitly: all simply means what the host has
        assertFalse(HypercallSelection.ALL.resolve(SPARSE).offers(PTP));
    }

    @Test
    void vmmImplementedServicesAreRefusedWithoutImplCpu() {
        for (HostFirmware h : new HostFirmware[] {LAB, NEW}) {
            var e =
                    assertThrows(
                            UnsupportedRequestException.class,
                            () -> HypercallSelection.parse("+discover-impl-cpus").resolve(h));
            assertEquals(
                    "--hypercalls discover-impl-cpus: KVM forwards this service's calls to the VMM,"
                            + " and jvmm answers them only with --impl-cpu (the CPU implementations to report)",
                    e.getMessage());
        }
        // removing them is always fine: on NEW the register stays at its reset value 0, on LAB it
        // is absent
        assertEquals(
                Map.of(), HypercallSelection.parse("-discover-impl-ver").resolve(NEW).changed());
        assertEquals(
                Map.of(), HypercallSelection.parse("-discover-impl-ver").resolve(LAB).changed());
        assertEquals(0L, HypercallSelection.parse("none").resolve(NEW).values().get(VENDOR_HYP_2));
    }

    static final Set<HypercallService> SERVED = EnumSet.of(DISCOVER_IMPL_VER, DISCOVER_IMPL_CPUS);

    @Test
    void servedDiscoverImplSetsVendorHyp2WhereTheRegisterExists() {
        // explicit: exactly the two services, bits 0 and 1; nothing else of KVM's
        ServiceBitmaps b =
                HypercallSelection.parse("discover-impl-ver,discover-impl-cpus")
                        .resolve(NEW, SERVED);
        assertEquals(Map.of(STD, 0L, STD_HYP, 0L, VENDOR_HYP, 0L, VENDOR_HYP_2, 0x3L), b.changed());
        assertTrue(b.offers(DISCOVER_IMPL_VER));
        assertTrue(b.offers(DISCOVER_IMPL_CPUS));
        // all: KVM's own services plus the two jvmm answers; -NAME hides one
        assertEquals(
                Map.of(VENDOR_HYP_2, 0x3L), HypercallSelection.ALL.resolve(NEW, SERVED).changed());
        assertEquals(
                Map.of(VENDOR_HYP_2, 0x2L),
                HypercallSelection.parse("-discover-impl-ver").resolve(NEW, SERVED).changed());
        // on 6.12 there is no register: all leaves it be (the calls are still answered), an
        // explicit request is refused by name
        assertEquals(Map.of(), HypercallSelection.ALL.resolve(LAB, SERVED).changed());
        var e =
                assertThrows(
                        UnsupportedRequestException.class,
                        () -> HypercallSelection.parse("+discover-impl-ver").resolve(LAB, SERVED));
        assertEquals(
                "--hypercalls discover-impl-ver: this host's KVM has no VENDOR_HYP_BMAP_2 register,"
                        + " so jvmm cannot select the service",
                e.getMessage());
    }

    @Test
    void hostsWithoutTheRegistersCannotSelect() {
        assertEquals(Map.of(), HypercallSelection.ALL.resolve(OLD).values());
        assertTrue(
                HypercallSelection.ALL.resolve(OLD).offers(TRNG),
                "offered unconditionally by such a KVM");
        var e =
                assertThrows(
                        UnsupportedRequestException.class,
                        () -> HypercallSelection.parse("-ptp").resolve(OLD));
        assertEquals(
                "--hypercalls -ptp: this host's KVM has no VENDOR_HYP_BMAP register, so it offers the service"
                        + " unconditionally and jvmm cannot hide it",
                e.getMessage());
        e =
                assertThrows(
                        UnsupportedRequestException.class,
                        () -> HypercallSelection.parse("none").resolve(OLD));
        assertEquals(
                "--hypercalls none: this host's KVM has no STD_BMAP register, so it offers those services"
                        + " unconditionally and jvmm cannot hide them",
                e.getMessage());
        e =
                assertThrows(
                        UnsupportedRequestException.class,
                        () -> HypercallSelection.parse("+trng").resolve(OLD));
        assertEquals(
                "--hypercalls trng: this host's KVM has no STD_BMAP register, so jvmm cannot select the service",
                e.getMessage());
    }
}
