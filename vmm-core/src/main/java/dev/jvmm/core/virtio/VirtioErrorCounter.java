package dev.jvmm.core.virtio;

import java.lang.System.Logger.Level;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-kind error counters of one device. The first error of each kind is logged at WARNING and the
 * rest at DEBUG, so a guest repeating a mistake cannot flood stderr.
 */
public final class VirtioErrorCounter {
    private static final System.Logger LOG = System.getLogger(VirtioErrorCounter.class.getName());

    private final String deviceName;
    // filled once here and never changed structurally, so read from any thread without a lock
    private final Map<VirtioError, LongAdder> counts = new EnumMap<>(VirtioError.class);
    private final Map<VirtioError, AtomicBoolean> logged = new EnumMap<>(VirtioError.class);
    private final LongAdder total = new LongAdder();

    public VirtioErrorCounter(String deviceName) {
        this.deviceName = deviceName;
        for (VirtioError k : VirtioError.values()) {
            counts.put(k, new LongAdder());
            logged.put(k, new AtomicBoolean());
        }
    }

    public void count(VirtioError kind, String detail) {
        counts.get(kind).increment();
        total.increment();
        Level level = logged.get(kind).compareAndSet(false, true) ? Level.WARNING : Level.DEBUG;
        LOG.log(level, () -> deviceName + ": " + kind + ": " + detail);
    }

    public long count(VirtioError kind) {
        return counts.get(kind).sum();
    }

    public long total() {
        return total.sum();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(deviceName).append(" errors{");
        for (VirtioError k : counts.keySet()) {
            long n = count(k);
            if (n != 0) sb.append(k).append('=').append(n).append(' ');
        }
        return sb.append('}').toString();
    }
}
