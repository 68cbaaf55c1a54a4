package dev.jvmm.core.arch.aarch64;

import java.util.List;

/**
 * The ITS's registers in a snapshot (key {@code its}; see {@link ItsSnapshot}): GITS_CTLR, IIDR,
 * CBASER, CREADR, CWRITER and every GITS_BASER KVM has, each a u64 at its offset. Its device,
 * collection and translation tables are in guest RAM.
 */
public record ItsState(List<DeviceRegister> registers) {}
