package dev.jvmm.core.snapshot;

import dev.jvmm.core.JvmmException.Kind;
import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.firmware.BitmapRegister;
import dev.jvmm.core.firmware.HypercallService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The destination checks, made before anything is built: can this host give the guest everything
 * the snapshot says it had? Each refusal is one line naming what is missing (exit 2). The rules
 * (SNAPSHOT-MIGRATION.md §2.1, QEMU's tolerance for absent bitmap registers): a bitmap service the
 * guest was given must be in this host's limit; a register absent here is fine only if the guest's
 * value was 0; PSCI up to this host's version; a Spectre workaround level must not be better than
 * this host's (the guest would believe in a mitigation that is not there); the same counter
 * frequency (KVM does not rescale the counter); the same IPA size; every SVE vector length, PAuth
 * and PMU the guest had.
 */
public final class RestoreCheck {
    private RestoreCheck() {}

    /**
     * Refuses a restore this host cannot honour.
     *
     * @param saved what the guest was given (the snapshot's host facts)
     * @param here what this host offers
     * @throws SnapshotException (host unsupported) naming the first thing this host lacks
     */
    public static void check(HostFacts saved, HostFacts here) {
        List<String> p = problems(saved, here);
        if (!p.isEmpty()) throw new SnapshotException(Kind.HOST_UNSUPPORTED, p.get(0));
    }

    /** Every refusal, in check order. */
    public static List<String> problems(HostFacts saved, HostFacts here) {
        List<String> out = new ArrayList<>();
        for (BitmapRegister r : BitmapRegister.values()) bitmap(r, saved, here, out);
        psci(saved, here, out);
        for (Map.Entry<String, Long> e : saved.workarounds().entrySet())
            workaround(e.getKey(), e.getValue(), here.workarounds().get(e.getKey()), out);
        if (saved.cntfrq() != here.cntfrq()) {
            out.add(
                    "cannot restore: the guest's counter ran at "
                            + saved.cntfrq()
                            + " Hz; this host's runs at "
                            + here.cntfrq()
                            + " Hz (KVM does not rescale the guest counter)");
        }
        if (saved.ipaBits() > here.ipaBits()) {
            out.add(
                    "cannot restore: the guest had a "
                            + saved.ipaBits()
                            + "-bit IPA space; this host's KVM offers "
                            + here.ipaBits()
                            + " bits");
        }
        List<Integer> missing = new ArrayList<>(saved.sveVectorLengths());
        missing.removeAll(here.sveVectorLengths());
        if (!missing.isEmpty()) {
            out.add(
                    "cannot restore: the guest had SVE vector lengths "
                            + saved.sveVectorLengths()
                            + " bits; this host's KVM offers "
                            + (here.sveVectorLengths().isEmpty()
                                    ? "no SVE"
                                    : here.sveVectorLengths() + " (lacks " + missing + ")"));
        }
        if (saved.ptrauth() && !here.ptrauth())
            out.add(
                    "cannot restore: the guest had pointer authentication; this host's KVM offers none");
        if (saved.pmu() && !here.pmu())
            out.add("cannot restore: the guest had a PMU (--pmu); this host's KVM offers no PMUv3");
        if (saved.mte() && !here.mte())
            out.add("cannot restore: the guest had MTE; this host's KVM offers no memory tagging");
        return out;
    }

    private static void bitmap(
            BitmapRegister r, HostFacts saved, HostFacts here, List<String> out) {
        Long value = saved.bitmaps().get(r.uapiName());
        if (value == null || value == 0) return; // nothing given: fine whatever this host has
        Long limit = here.bitmaps().get(r.uapiName());
        if (limit == null) {
            out.add(
                    "cannot restore: the guest was given "
                            + services(r, value)
                            + " ("
                            + r.uapiName()
                            + "=0x"
                            + Long.toHexString(value)
                            + "); this host's KVM has no "
                            + r.uapiName()
                            + " register");
            return;
        }
        long lacking = value & ~limit;
        if (lacking != 0) {
            out.add(
                    "cannot restore: the guest was given "
                            + services(r, lacking)
                            + "; this host's KVM offers 0x"
                            + Long.toHexString(limit));
        }
    }

    /** E.g. {@code pv-time (STD_HYP_BMAP bit 0)}, one entry per set bit. */
    static String services(BitmapRegister r, long bits) {
        List<String> names = new ArrayList<>();
        for (int bit = 0; bit < 64; bit++) {
            if ((bits & (1L << bit)) == 0) continue;
            String name = "service";
            for (HypercallService s : HypercallService.values()) {
                if (s.register() == r && s.mask() == 1L << bit) name = s.cliName();
            }
            names.add(name + " (" + r.uapiName() + " bit " + bit + ")");
        }
        return String.join(", ", names);
    }

    private static void psci(HostFacts saved, HostFacts here, List<String> out) {
        PsciVersion guest = PsciVersion.parse(saved.psci());
        // a KVM without the PSCI_VERSION register implements 0.2 (and 0.1)
        PsciVersion host = here.psci() == null ? PsciVersion.V0_2 : PsciVersion.parse(here.psci());
        if (guest.compareTo(host) > 0) {
            out.add(
                    "cannot restore: the guest was given PSCI "
                            + guest
                            + "; this host's KVM implements PSCI up to "
                            + host);
        }
    }

    private static void workaround(String n, long saved, Long here, List<String> out) {
        String reg = "SMCCC_ARCH_WORKAROUND_" + n;
        long level = saved & 0xf;
        if (here == null) {
            if (level != 0) {
                out.add(
                        "cannot restore: the guest was told "
                                + reg
                                + " is "
                                + levelName(n, level)
                                + "; this host's KVM has no such register");
            }
            return;
        }
        if (level > (here & 0xf)) {
            out.add(
                    "cannot restore: the guest was told "
                            + reg
                            + " is "
                            + levelName(n, level)
                            + "; on this host it is "
                            + levelName(n, here & 0xf)
                            + " (a Spectre mitigation state must not improve across a restore)");
        }
    }

    /** The level names of fw-pseudo-registers.rst. */
    static String levelName(String n, long level) {
        List<String> names =
                n.equals("2")
                        ? List.of("NOT_AVAIL", "UNKNOWN", "AVAIL", "NOT_REQUIRED")
                        : List.of("NOT_AVAIL", "AVAIL", "NOT_REQUIRED");
        return level < names.size() ? names.get((int) level) : "level " + level;
    }
}
