package dev.jvmm.core.vm;

import dev.jvmm.core.net.MacAddress;
import dev.jvmm.kvm.sys.Tun;
import java.util.Objects;

/**
 * A virtio-net NIC attached to host tap interface {@code tap}, with the guest's MAC address. The
 * tap name is checked against the kernel's rules here; whether it can be opened is found out at
 * start.
 */
public record NetConfig(String tap, MacAddress mac) {
    public NetConfig {
        Objects.requireNonNull(tap, "tap");
        Objects.requireNonNull(mac, "mac");
        String bad = Tun.invalidNameReason(tap);
        if (bad != null) throw dev.jvmm.core.JvmmException.usage("tap '" + tap + "': " + bad);
    }

    /**
     * A NIC on {@code tap} with the MAC address {@link MacAddress#derived derived} from the tap
     * name.
     */
    public static NetConfig withDerivedMac(String tap) {
        return new NetConfig(tap, MacAddress.derived(tap));
    }
}
