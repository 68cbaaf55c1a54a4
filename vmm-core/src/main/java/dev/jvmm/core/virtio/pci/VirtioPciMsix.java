package dev.jvmm.core.virtio.pci;

import static dev.jvmm.core.virtio.pci.VirtioPciLayout.MSIX_PBA;
import static dev.jvmm.core.virtio.pci.VirtioPciLayout.MSIX_TABLE;

import dev.jvmm.core.pci.MsixCapability;
import dev.jvmm.core.pci.MsixTable;
import dev.jvmm.core.pci.PciHeader;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioInterrupt;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * virtio-pci's MSI-X (virtio 1.x spec 4.1.4.3, 4.1.5.1.2): the function's {@link MsixTable} with
 * its capability and its place in BAR0, and which vector the driver gave configuration changes
 * ({@code msix_config}) and each queue ({@code queue_msix_vector}). A vector the table does not
 * have, or any vector on a function without MSI-X, reads back as {@link #NO_VECTOR}, which is how a
 * driver learns the mapping failed. Vectors are read by device threads without the transport's
 * lock, so they live in an atomic array.
 */
final class VirtioPciMsix {
    /** VIRTIO_MSI_NO_VECTOR. */
    static final int NO_VECTOR = 0xffff;

    private final MsixTable table;
    private final MsixCapability capability;
    private final int queues;
    private final AtomicIntegerArray vectors; // per queue, then configuration

    /**
     * @param sink where vectors are routed and delivered; null: the function offers no MSI-X
     */
    VirtioPciMsix(VirtioDevice device, MsixTable.Sink sink) {
        this.table = sink == null ? null : new MsixTable(VirtioPciLayout.msixVectors(device), sink);
        this.capability =
                table == null ? null : new MsixCapability(table, 0, 0, MSIX_TABLE, MSIX_PBA);
        this.queues = device.queueCount();
        this.vectors = new AtomicIntegerArray(queues + 1);
        reset();
    }

    /** The table, or null without MSI-X. */
    MsixTable table() {
        return table;
    }

    /** The capability's bytes for the header's list, or null without MSI-X. */
    byte[] capabilityBytes() {
        return capability == null ? null : capability.bytes();
    }

    /** Hands the capability's config accesses to it, where {@link VirtioPciLayout} put it. */
    void attach(PciHeader header, VirtioDevice device) {
        if (capability != null)
            header.attach(VirtioPciLayout.msixOffset(device), MsixCapability.LENGTH, capability);
    }

    /** A BAR0 access in [MSIX_TABLE, MSIX_END); false for a bad one (or no MSI-X). */
    boolean barAccess(long offset, byte[] data, boolean isWrite) {
        if (table == null) {
            if (!isWrite) Arrays.fill(data, (byte) 0);
            return false;
        }
        if (offset < MSIX_PBA) {
            return isWrite
                    ? table.writeTable(offset - MSIX_TABLE, data)
                    : table.readTable(offset - MSIX_TABLE, data);
        }
        if (isWrite) return false; // the PBA is read-only
        return table.readPba(offset - MSIX_PBA, data);
    }

    /** The vector of {@code source} (a queue index or {@link VirtioInterrupt#CONFIG}). */
    int vector(int source) {
        if (source == VirtioInterrupt.CONFIG) return vectors.get(queues);
        return source >= 0 && source < queues ? vectors.get(source) : NO_VECTOR;
    }

    /** Sets the vector of {@code source}; one the table lacks becomes NO_VECTOR. */
    void setVector(int source, int v) {
        int stored = table != null && v >= 0 && v < table.vectors() ? v : NO_VECTOR;
        if (source == VirtioInterrupt.CONFIG) vectors.set(queues, stored);
        else if (source >= 0 && source < queues) vectors.set(source, stored);
    }

    /**
     * Delivers an interrupt for {@code source} through MSI-X; false when MSI-X is off (the caller
     * uses INTx). With MSI-X on, a source without a vector interrupts nobody (spec 4.1.5.1.2).
     */
    boolean trigger(int source) {
        if (table == null) return false;
        int v = vector(source);
        if (v == NO_VECTOR) return table.enabled();
        return table.trigger(v);
    }

    VirtioPciMsixState saveState() {
        List<Integer> v = new ArrayList<>(vectors.length());
        for (int i = 0; i < vectors.length(); i++) v.add(vectors.get(i));
        return new VirtioPciMsixState(table == null ? null : table.saveState(), v);
    }

    /** Why {@code s} (null: the snapshot had no MSI-X) cannot be restored here, or null. */
    String stateProblem(VirtioPciMsixState s) {
        if (s == null)
            return table == null ? null : "the function offers MSI-X, the snapshot has none";
        if ((s.table() == null) != (table == null))
            return table == null
                    ? "the snapshot has an MSI-X table, the function offers none (no ITS?)"
                    : "the function offers MSI-X, the snapshot has no table";
        if (s.vectors() == null || s.vectors().size() != vectors.length())
            return "the snapshot's MSI-X vector list does not fit " + queues + " queues";
        for (Integer v : s.vectors()) {
            if (v == null || (v != NO_VECTOR && (table == null || v < 0 || v >= table.vectors())))
                return "MSI-X vector " + v + " is not in the table";
        }
        return table == null ? null : table.stateProblem(s.table());
    }

    /** Puts a checked state into place: the sources' vectors, then the table with its routes. */
    void restoreState(VirtioPciMsixState s) {
        if (s == null) return;
        for (int i = 0; i < vectors.length(); i++) vectors.set(i, s.vectors().get(i));
        if (table != null) table.restoreState(s.table());
    }

    /** Device reset (status 0): every source back to NO_VECTOR; the table is the function's. */
    void reset() {
        for (int i = 0; i < vectors.length(); i++) vectors.set(i, NO_VECTOR);
    }

    /** Function reset: the table too (MSI-X off, every vector masked). */
    void resetFunction() {
        reset();
        if (table != null) table.reset();
    }
}
