package dev.jvmm.core.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jvmm.core.JvmmException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The destination checks against fake hosts: each refusal line, and what is accepted. */
class RestoreCheckTest {
    private static HostFacts facts(
            Map<String, Long> bitmaps,
            String psci,
            Map<String, Long> wa,
            long cntfrq,
            int ipa,
            List<Integer> sve,
            boolean ptrauth,
            boolean pmu) {
        return new HostFacts(bitmaps, psci, wa, cntfrq, ipa, sve, ptrauth, pmu, false, "6.x");
    }

    /** A guest as a 6.12 host gives it by default. */
    private static HostFacts guest() {
        return facts(
                Map.of(
                        "STD_BMAP",
                        1L,
                        "STD_HYP_BMAP",
                        1L,
                        "VENDOR_HYP_BMAP",
                        3L,
                        "VENDOR_HYP_BMAP_2",
                        0L),
                "1.1",
                Map.of("1", 1L, "2", 2L, "3", 1L),
                25_000_000,
                40,
                List.of(128, 256),
                true,
                false);
    }

    private static HostFacts with(HostFacts h, String what, Object value) {
        Map<String, Long> bm = new HashMap<>(h.bitmaps());
        Map<String, Long> wa = new HashMap<>(h.workarounds());
        String psci = h.psci();
        long cntfrq = h.cntfrq();
        int ipa = h.ipaBits();
        List<Integer> sve = h.sveVectorLengths();
        boolean ptrauth = h.ptrauth(), pmu = h.pmu();
        switch (what) {
            case "psci" -> psci = (String) value;
            case "cntfrq" -> cntfrq = (Long) value;
            case "ipa" -> ipa = (Integer) value;
            case "ptrauth" -> ptrauth = (Boolean) value;
            case "pmu" -> pmu = (Boolean) value;
            default -> {
                if (what.startsWith("WA")) {
                    if (value == null) wa.remove(what.substring(2));
                    else wa.put(what.substring(2), (Long) value);
                } else if (what.equals("sve")) {
                    @SuppressWarnings("unchecked")
                    List<Integer> l = (List<Integer>) value;
                    sve = l;
                } else if (value == null) bm.remove(what);
                else bm.put(what, (Long) value);
            }
        }
        return facts(bm, psci, wa, cntfrq, ipa, sve, ptrauth, pmu);
    }

    private static String refusal(HostFacts saved, HostFacts here) {
        SnapshotException e =
                assertThrows(SnapshotException.class, () -> RestoreCheck.check(saved, here));
        assertEquals(JvmmException.Kind.HOST_UNSUPPORTED, e.errorKind());
        return e.getMessage();
    }

    @Test
    void theSameHostIsAccepted() {
        RestoreCheck.check(guest(), guest());
    }

    @Test
    void aHostOfferingMoreIsAccepted() {
        HostFacts more =
                with(with(with(guest(), "psci", "1.3"), "ipa", 48), "sve", List.of(128, 256, 512));
        more = with(with(more, "WA1", 2L), "pmu", true);
        RestoreCheck.check(guest(), more);
    }

    @Test
    void aServiceTheGuestHadAndThisHostLacksIsNamed() {
        assertEquals(
                "cannot restore: the guest was given pv-time (STD_HYP_BMAP bit 0); this host's KVM offers 0x0",
                refusal(guest(), with(guest(), "STD_HYP_BMAP", 0L)));
        assertEquals(
                "cannot restore: the guest was given ptp (VENDOR_HYP_BMAP bit 1); this host's KVM offers 0x1",
                refusal(guest(), with(guest(), "VENDOR_HYP_BMAP", 1L)));
        assertEquals(
                "cannot restore: the guest was given discover-impl-ver (VENDOR_HYP_BMAP_2 bit 0),"
                        + " service (VENDOR_HYP_BMAP_2 bit 5); this host's KVM offers 0x0",
                refusal(with(guest(), "VENDOR_HYP_BMAP_2", 0x21L), guest()));
    }

    @Test
    void anAbsentRegisterIsFineOnlyWhenTheGuestHadZero() {
        // VENDOR_HYP_BMAP_2 was 0: a host without the register (before 6.15) can take the guest
        RestoreCheck.check(guest(), with(guest(), "VENDOR_HYP_BMAP_2", null));
        HostFacts hidden = with(guest(), "STD_BMAP", 0L);
        RestoreCheck.check(hidden, with(guest(), "STD_BMAP", null));
        assertEquals(
                "cannot restore: the guest was given trng (STD_BMAP bit 0) (STD_BMAP=0x1); this host's"
                        + " KVM has no STD_BMAP register",
                refusal(guest(), with(guest(), "STD_BMAP", null)));
    }

    /**
     * A guest given the DISCOVER_IMPL services under a 6.15+ KVM cannot go to a 6.12 one (no
     * register); the 6.15+ limit is both bits where jvmm can forward the calls, none without the
     * SMCCC filter.
     */
    @Test
    void discoverImplTravelsOnlyToAKvmWithTheRegister() {
        assertEquals(
                "cannot restore: the guest was given discover-impl-ver (VENDOR_HYP_BMAP_2 bit 0),"
                        + " discover-impl-cpus (VENDOR_HYP_BMAP_2 bit 1) (VENDOR_HYP_BMAP_2=0x3);"
                        + " this host's KVM has no VENDOR_HYP_BMAP_2 register",
                refusal(
                        with(guest(), "VENDOR_HYP_BMAP_2", 0x3L),
                        with(guest(), "VENDOR_HYP_BMAP_2", null)));
        HostFacts newer =
                with(
                        guest(),
                        "VENDOR_HYP_BMAP_2",
                        HostProbe.limit(
                                dev.jvmm.core.firmware.BitmapRegister.VENDOR_HYP_2, 0, true));
        RestoreCheck.check(with(guest(), "VENDOR_HYP_BMAP_2", 0x3L), newer);
        assertEquals(
                0L, HostProbe.limit(dev.jvmm.core.firmware.BitmapRegister.VENDOR_HYP_2, 0, false));
        assertEquals(
                0x3L,
                HostProbe.limit(dev.jvmm.core.firmware.BitmapRegister.VENDOR_HYP, 0x3, false));
    }

    @Test
    void aNewerPsciThanTheHostImplementsIsRefused() {
        assertEquals(
                "cannot restore: the guest was given PSCI 1.1; this host's KVM implements PSCI up to 1.0",
                refusal(guest(), with(guest(), "psci", "1.0")));
        assertEquals(
                "cannot restore: the guest was given PSCI 1.1; this host's KVM implements PSCI up to 0.2",
                refusal(guest(), with(guest(), "psci", null)));
        RestoreCheck.check(with(guest(), "psci", "0.2"), with(guest(), "psci", null));
    }

    @Test
    void aSpectreStateThatWouldImproveIsRefused() {
        assertEquals(
                "cannot restore: the guest was told SMCCC_ARCH_WORKAROUND_1 is NOT_REQUIRED; on this"
                        + " host it is AVAIL (a Spectre mitigation state must not improve across a restore)",
                refusal(with(guest(), "WA1", 2L), guest()));
        assertEquals(
                "cannot restore: the guest was told SMCCC_ARCH_WORKAROUND_2 is AVAIL; on this host it"
                        + " is UNKNOWN (a Spectre mitigation state must not improve across a restore)",
                refusal(guest(), with(guest(), "WA2", 1L)));
        assertEquals(
                "cannot restore: the guest was told SMCCC_ARCH_WORKAROUND_3 is AVAIL; this host's KVM"
                        + " has no such register",
                refusal(guest(), with(guest(), "WA3", null)));
        // worse here than the guest believes: the guest only loses a belief it never relied on
        RestoreCheck.check(with(guest(), "WA1", 0L), guest());
        RestoreCheck.check(with(guest(), "WA3", 0L), with(guest(), "WA3", null));
    }

    @Test
    void counterIpaAndCpuFeaturesMustFit() {
        assertEquals(
                "cannot restore: the guest's counter ran at 25000000 Hz; this host's runs at"
                        + " 1000000000 Hz (KVM does not rescale the guest counter)",
                refusal(guest(), with(guest(), "cntfrq", 1_000_000_000L)));
        assertEquals(
                "cannot restore: the guest's counter ran at 25000000 Hz; this host's runs at"
                        + " 24000000 Hz (KVM does not rescale the guest counter)",
                refusal(guest(), with(guest(), "cntfrq", 24_000_000L)));
        assertEquals(
                "cannot restore: the guest had a 40-bit IPA space; this host's KVM offers 36 bits",
                refusal(guest(), with(guest(), "ipa", 36)));
        assertEquals(
                "cannot restore: the guest had SVE vector lengths [128, 256] bits; this host's KVM"
                        + " offers [128] (lacks [256])",
                refusal(guest(), with(guest(), "sve", List.of(128))));
        assertEquals(
                "cannot restore: the guest had SVE vector lengths [128, 256] bits; this host's KVM"
                        + " offers no SVE",
                refusal(guest(), with(guest(), "sve", List.of())));
        assertEquals(
                "cannot restore: the guest had pointer authentication; this host's KVM offers none",
                refusal(guest(), with(guest(), "ptrauth", false)));
        assertEquals(
                "cannot restore: the guest had a PMU (--pmu); this host's KVM offers no PMUv3",
                refusal(with(guest(), "pmu", true), guest()));
    }

    @Test
    void everyProblemIsListedInOrder() {
        HostFacts poor = with(with(guest(), "STD_HYP_BMAP", 0L), "cntfrq", 1L);
        assertEquals(2, RestoreCheck.problems(guest(), poor).size());
    }
}
