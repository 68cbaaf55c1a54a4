package dev.jvmm.core.virtio.pci;

import dev.jvmm.core.pci.MsixTable;
import dev.jvmm.core.virtio.VirtioInterrupt;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * virtio-pci's side of MSI-X (virtio 1.x spec 4.1.4.3, 4.1.5.1.2): which vector the driver gave
 * configuration changes ({@code msix_config}) and each queue ({@code queue_msix_vector}), and where
 * an interrupt goes. A vector the table does not have, or any vector on a function without MSI-X,
 * reads back as {@link #NO_VECTOR}, which is how a driver learns the mapping failed. Vectors are
 * read by device threads without the transport's lock, so they live in an atomic array.
 */
final class VirtioMsixVectors {
    /** VIRTIO_MSI_NO_VECTOR. */
    static final int NO_VECTOR = 0xffff;

    private final MsixTable table;
    private final int queues;
    private final AtomicIntegerArray vectors; // per queue, then configuration

    /**
     * @param table the function's MSI-X table, or null when it offers none
     */
    VirtioMsixVectors(MsixTable table, int queues) {
        this.table = table;
        this.queues = queues;
        this.vectors = new AtomicIntegerArray(queues + 1);
        reset();
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

    /** Device reset (status 0): every source back to NO_VECTOR; the table is the function's. */
    void reset() {
        for (int i = 0; i < vectors.length(); i++) vectors.set(i, NO_VECTOR);
    }
}
