package dev.jvmm.core.firmware;

import dev.jvmm.core.UnsupportedRequestException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The user's --hypercalls choice, normalised: a starting point (every service the host offers by
 * default, or none) plus services added and removed. Pure: {@link #resolve} turns it into register
 * values against a host's {@link HostFirmware}.
 *
 * <p>Syntax, comma-separated and read left to right: {@code all} (the host's default set, KVM's own
 * default) or {@code none} start over; {@code +name} adds and {@code -name} removes a service; a
 * bare {@code name} adds it, and a list that begins with one starts from {@code none} (so {@code
 * trng,ptp} is exactly those two while {@code -ptp} is everything but ptp).
 *
 * @param fromAll whether the starting point is the host's default set
 */
public record HypercallSelection(
        boolean fromAll, Set<HypercallService> added, Set<HypercallService> removed) {
    /** No --hypercalls: whatever KVM offers by default. */
    public static final HypercallSelection ALL = new HypercallSelection(true, Set.of(), Set.of());

    public HypercallSelection {
        added = frozen(added);
        removed = frozen(removed);
        for (HypercallService s : added) {
            if (removed.contains(s))
                throw new IllegalArgumentException(s + " is both added and removed");
        }
    }

    private static Set<HypercallService> frozen(Set<HypercallService> s) {
        EnumSet<HypercallService> c = EnumSet.noneOf(HypercallService.class);
        c.addAll(s);
        return Collections.unmodifiableSet(c);
    }

    /** Parses a --hypercalls value; IllegalArgumentException names the offending item. */
    public static HypercallSelection parse(String text) {
        String[] items = text.split(",", -1);
        boolean fromAll = true;
        EnumSet<HypercallService> add = EnumSet.noneOf(HypercallService.class);
        EnumSet<HypercallService> remove = EnumSet.noneOf(HypercallService.class);
        for (int i = 0; i < items.length; i++) {
            String item = items[i].trim();
            if (item.isEmpty()) {
                throw new IllegalArgumentException(
                        "'"
                                + text
                                + "': empty item in the list (known services: "
                                + HypercallService.names()
                                + "; or all, none)");
            }
            switch (item.toLowerCase(java.util.Locale.ROOT)) {
                case "all", "none" -> {
                    fromAll = item.equalsIgnoreCase("all");
                    add.clear();
                    remove.clear();
                }
                default -> {
                    char op = item.charAt(0);
                    boolean plus = op != '-';
                    String name = op == '+' || op == '-' ? item.substring(1) : item;
                    HypercallService s = HypercallService.byName(name);
                    if (i == 0 && op != '+' && op != '-') fromAll = false;
                    (plus ? add : remove).add(s);
                    (plus ? remove : add).remove(s);
                }
            }
        }
        return new HypercallSelection(fromAll, add, remove);
    }

    /** Whether the result can include {@code s} (assuming the host offers it). */
    public boolean mayOffer(HypercallService s) {
        return !removed.contains(s) && (fromAll || added.contains(s));
    }

    /** The same choice with {@code s} removed. */
    public HypercallSelection without(HypercallService s) {
        EnumSet<HypercallService> a = EnumSet.noneOf(HypercallService.class),
                r = EnumSet.noneOf(HypercallService.class);
        a.addAll(added);
        r.addAll(removed);
        a.remove(s);
        r.add(s);
        return new HypercallSelection(fromAll, a, r);
    }

    /**
     * The register values this choice gives on {@code host} when jvmm serves none of the services
     * KVM forwards to the VMM.
     *
     * @throws UnsupportedRequestException naming the first service the host cannot offer or hide
     */
    public ServiceBitmaps resolve(HostFirmware host) {
        return resolve(host, Set.of());
    }

    /**
     * The register values this choice gives on {@code host}.
     *
     * @param vmmServed the services KVM forwards to the VMM that jvmm answers in this run
     *     (DISCOVER_IMPL with --impl-cpu): where their register exists, {@code all} includes them
     *     and they may be added; the others cannot be offered
     * @throws UnsupportedRequestException naming the first service the host cannot offer or hide
     */
    public ServiceBitmaps resolve(HostFirmware host, Set<HypercallService> vmmServed) {
        for (HypercallService s : added) {
            if (s.vmmImplemented() && !vmmServed.contains(s)) {
                throw new UnsupportedRequestException(
                        "--hypercalls "
                                + s
                                + ": KVM forwards this service's calls to the VMM, and jvmm"
                                + " answers them only with --impl-cpu (the CPU implementations to report)");
            }
        }
        Map<BitmapRegister, Long> values = new EnumMap<>(BitmapRegister.class);
        for (BitmapRegister r : BitmapRegister.values()) {
            OptionalLong def = host.bitmap(r);
            if (def.isEmpty()) {
                requireControlNotNeeded(r);
                continue;
            }
            long limit = limit(r, def.getAsLong(), vmmServed);
            long v = fromAll ? limit : 0;
            for (HypercallService s : added) {
                if (s.register() != r) continue;
                if ((limit & s.mask()) == 0) {
                    throw new UnsupportedRequestException(
                            String.format(
                                    "--hypercalls %s: not offered by this host's KVM"
                                            + " (%s limit 0x%x)",
                                    s, r.uapiName(), def.getAsLong()));
                }
                v |= s.mask();
            }
            for (HypercallService s : removed) if (s.register() == r) v &= ~s.mask();
            values.put(r, v);
        }
        return new ServiceBitmaps(values, host.bitmaps());
    }

    /**
     * What {@code r} may hold on a host whose reset value is {@code reset}: KVM's own services are
     * the reset value (its upper limit), services answered by the VMM add their bits where jvmm
     * serves them (KVM accepts any bit it knows, and resets them to 0).
     */
    static long limit(BitmapRegister r, long reset, Set<HypercallService> vmmServed) {
        long limit = reset;
        for (HypercallService s : vmmServed) if (s.register() == r) limit |= s.mask();
        return limit;
    }

    /**
     * A host without {@code r} offers its services unconditionally: fine unless this choice needs
     * them changed.
     */
    private void requireControlNotNeeded(BitmapRegister r) {
        for (HypercallService s : added) {
            if (s.register() == r) {
                throw new UnsupportedRequestException(
                        "--hypercalls "
                                + s
                                + ": this host's KVM has no "
                                + r.uapiName()
                                + " register, so jvmm cannot select the service");
            }
        }
        if (!r.defaultsToAll())
            return; // absent opt-in register: its services do not exist, nothing to hide
        for (HypercallService s : removed) {
            if (s.register() == r) {
                throw new UnsupportedRequestException(
                        "--hypercalls -"
                                + s
                                + ": this host's KVM has no "
                                + r.uapiName()
                                + " register, so it offers the service unconditionally and jvmm cannot hide it");
            }
        }
        if (!fromAll) {
            throw new UnsupportedRequestException(
                    "--hypercalls none: this host's KVM has no "
                            + r.uapiName()
                            + " register, so it offers those services unconditionally and jvmm cannot hide them");
        }
    }

    /** Canonical text that {@link #parse} reads back to an equal selection. */
    @Override
    public String toString() {
        List<String> items = new ArrayList<>();
        items.add(fromAll ? "all" : "none");
        for (HypercallService s : added) items.add("+" + s);
        for (HypercallService s : removed) items.add("-" + s);
        return String.join(",", items);
    }
}
