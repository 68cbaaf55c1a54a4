package dev.jvmm.core.snapshot;

/**
 * A part of a machine whose guest-visible state a snapshot carries ({@code
 * ../shared/design/ARCHITECTURE.md}, "Lifecycle and state"): the vCPUs, the vGIC and ITS, the guest
 * counter, the PV-time page, the 8250, each virtio transport with its device, the SDEI dispatcher,
 * the shared-region set, the SMCCC router. Its state is one immutable record of plain data
 * (numbers, booleans, strings, {@code byte[]}, lists, maps and nested records), which {@link
 * StateJson} writes to and reads from the snapshot's JSON without any per-part code. Guest RAM is
 * not a part's state: the snapshot writes it once, to its own file.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #saveState} is called only while the machine is paused (every vCPU parked outside
 *       KVM_RUN with its pending exit completed, every device quiesced), so the record is
 *       consistent; it never changes what the guest sees.
 *   <li>{@link #restoreState} is called on a freshly built part of a machine built from the
 *       snapshot's configuration, before any vCPU runs, in the machine's restore order. It checks
 *       the record against the part it was built as (sizes, counts, indices: a snapshot is input
 *       and may be hostile or damaged) and refuses with a {@link SnapshotException} naming the part
 *       and the field, leaving nothing half-applied that the guest could see.
 *   <li>Saving a restored part, before the guest runs, gives an equal record.
 * </ul>
 *
 * @param <S> the state record
 */
public interface Snapshottable<S extends Record> {
    /**
     * The record's key in the snapshot's state file: stable across jvmm versions and unique in a
     * machine, e.g. {@code uart}, {@code gic}, {@code vcpu.1}, {@code virtio.0xa000000}.
     */
    String stateKey();

    /** The record's class, for reading it back. */
    Class<S> stateType();

    /** The part's state now; the machine is paused. */
    S saveState();

    /**
     * Puts this freshly built part into {@code state}.
     *
     * @throws SnapshotException one line naming the part and what in the record does not fit
     */
    void restoreState(S state);
}
