package dev.jvmm.core.firmware;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * A hypercall service the guest can be offered or denied, and its bit in a {@link BitmapRegister}.
 */
public enum HypercallService {
    /** SMCCC TRNG 1.0 (ARM DEN0098): Linux's smccc_trng device and arch random seed. */
    TRNG("trng", BitmapRegister.STD, 0, false),
    /** PV stolen time (ARM DEN0057A): PV_TIME_FEATURES / PV_TIME_ST. */
    PV_TIME("pv-time", BitmapRegister.STD_HYP, 0, false),
    /**
     * KVM's vendor UID and KVM_FEATURES calls: how a guest discovers every other KVM vendor
     * service.
     */
    KVM_FEATURES("kvm-features", BitmapRegister.VENDOR_HYP, 0, false),
    /** KVM's PTP clock service (Linux's ptp_kvm, /dev/ptp0). */
    PTP("ptp", BitmapRegister.VENDOR_HYP, 1, false),
    /**
     * Discovery of the CPU implementations a VM may migrate across (Linux 6.15+ guests). KVM only
     * advertises these; the calls themselves are forwarded to the VMM, and jvmm answers them when
     * given {@code --impl-cpu} ({@code hypercall.DiscoverImplService}).
     */
    DISCOVER_IMPL_VER("discover-impl-ver", BitmapRegister.VENDOR_HYP_2, 0, true),
    DISCOVER_IMPL_CPUS("discover-impl-cpus", BitmapRegister.VENDOR_HYP_2, 1, true);

    private final String cliName;
    private final BitmapRegister register;
    private final int bit;
    private final boolean vmmImplemented;

    HypercallService(String cliName, BitmapRegister register, int bit, boolean vmmImplemented) {
        this.cliName = cliName;
        this.register = register;
        this.bit = bit;
        this.vmmImplemented = vmmImplemented;
    }

    /** The name on the command line and in `jvmm caps`. */
    public String cliName() {
        return cliName;
    }

    public BitmapRegister register() {
        return register;
    }

    /** This service's bit as a mask of its register. */
    public long mask() {
        return 1L << bit;
    }

    /**
     * True for services whose calls KVM forwards to the VMM: offered only when jvmm serves them.
     */
    public boolean vmmImplemented() {
        return vmmImplemented;
    }

    /** Every CLI name, comma-separated, for messages. */
    public static String names() {
        return Arrays.stream(values())
                .map(HypercallService::cliName)
                .collect(Collectors.joining(", "));
    }

    /** The service called {@code name} (case-insensitive). */
    public static HypercallService byName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (HypercallService s : values()) if (s.cliName.equals(n)) return s;
        throw new IllegalArgumentException(
                "unknown hypercall service '" + name + "' (known: " + names() + "; or all, none)");
    }

    @Override
    public String toString() {
        return cliName;
    }
}
