package dev.jvmm.core.virtio;

import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-kind error counters of one device. The first error of each kind is logged at WARNING and the rest
 * at DEBUG, so a guest repeating a mistake cannot flood stderr.
 */
public final class VirtioErrorCounter {
    private static final System.Logger LOG = System.getLogger(VirtioErrorCounter.class.getName());
    private static final VirtioError[] KINDS = VirtioError.values();

    private final String deviceName;
    private final LongAdder[] counts = new LongAdder[KINDS.length];
    private final AtomicBoolean[] logged = new AtomicBoolean[KINDS.length];
    private final LongAdder total = new LongAdder();

    public VirtioErrorCounter(String deviceName) {
        this.deviceName = deviceName;
        for (int i = 0; i < KINDS.length; i++) {
            counts[i] = new LongAdder();
            logged[i] = new AtomicBoolean();
        }
    }

    public void count(VirtioError kind, String detail) {
        counts[kind.ordinal()].increment();
        total.increment();
        Level level = logged[kind.ordinal()].compareAndSet(false, true) ? Level.WARNING : Level.DEBUG;
        LOG.log(level, () -> deviceName + ": " + kind + ": " + detail);
    }

    public long count(VirtioError kind) { return counts[kind.ordinal()].sum(); }

    public long total() { return total.sum(); }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder(deviceName).append(" errors{");
        for (VirtioError k : KINDS) {
            long n = count(k);
            if (n != 0) sb.append(k).append('=').append(n).append(' ');
        }
        return sb.append('}').toString();
    }
}
