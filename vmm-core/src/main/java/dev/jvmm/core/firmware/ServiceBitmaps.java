package dev.jvmm.core.firmware;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The bitmap register values the guest will run with, next to the host's reset values. Registers
 * the host lacks are in neither map; their services are whatever that KVM implements, beyond jvmm's
 * control.
 */
public record ServiceBitmaps(Map<BitmapRegister, Long> values, Map<BitmapRegister, Long> defaults) {
    public ServiceBitmaps {
        values = copy(values);
        defaults = copy(defaults);
        if (!values.keySet().equals(defaults.keySet()))
            throw new IllegalArgumentException("registers differ");
    }

    private static Map<BitmapRegister, Long> copy(Map<BitmapRegister, Long> m) {
        Map<BitmapRegister, Long> c = new EnumMap<>(BitmapRegister.class);
        c.putAll(m);
        return Collections.unmodifiableMap(c);
    }

    /** The host's defaults unchanged: what KVM gives a guest when the VMM writes nothing. */
    public static ServiceBitmaps hostDefault(HostFirmware host) {
        return new ServiceBitmaps(host.bitmaps(), host.bitmaps());
    }

    /**
     * Whether the guest can find {@code s}. For a register the host lacks: true for the services
     * such a KVM offers unconditionally (if it implements them), false for opt-in ones.
     */
    public boolean offers(HypercallService s) {
        Long v = values.get(s.register());
        if (v == null) return s.register().defaultsToAll() && !s.vmmImplemented();
        return (v & s.mask()) != 0;
    }

    public boolean hasRegister(BitmapRegister r) {
        return values.containsKey(r);
    }

    /** Registers whose value differs from the host's reset value: the only ones jvmm writes. */
    public Map<BitmapRegister, Long> changed() {
        Map<BitmapRegister, Long> m = new EnumMap<>(BitmapRegister.class);
        values.forEach(
                (r, v) -> {
                    if (!v.equals(defaults.get(r))) m.put(r, v);
                });
        return m;
    }

    /** The same with {@code s} cleared (a no-op when its register is absent). */
    public ServiceBitmaps without(HypercallService s) {
        Long v = values.get(s.register());
        if (v == null) return this;
        Map<BitmapRegister, Long> m = new EnumMap<>(BitmapRegister.class);
        m.putAll(values);
        m.put(s.register(), v & ~s.mask());
        return new ServiceBitmaps(m, defaults);
    }

    /**
     * One line for the log: offered and hidden services, and the registers' values, e.g. {@code
     * trng, kvm-features, ptp (hidden: pv-time; STD_BMAP=0x1 STD_HYP_BMAP=0x0
     * VENDOR_HYP_BMAP=0x3)}.
     */
    public String describe() {
        List<String> on = new ArrayList<>(), off = new ArrayList<>();
        for (HypercallService s : HypercallService.values()) {
            if (!hasRegister(s.register()) && !s.register().defaultsToAll()) continue;
            (offers(s) ? on : off)
                    .add(s.cliName() + (hasRegister(s.register()) ? "" : " (unselectable here)"));
        }
        StringBuilder b = new StringBuilder(on.isEmpty() ? "none" : String.join(", ", on));
        b.append(" (hidden: ").append(off.isEmpty() ? "none" : String.join(", ", off));
        String sep = "; ";
        for (Map.Entry<BitmapRegister, Long> e : values.entrySet()) {
            b.append(sep)
                    .append(e.getKey().uapiName())
                    .append("=0x")
                    .append(Long.toHexString(e.getValue()));
            sep = " ";
        }
        return b.append(')').toString();
    }
}
