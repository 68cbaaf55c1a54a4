package dev.jvmm.core.device;

import dev.jvmm.core.memory.GuestMemoryException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Routes guest MMIO exits to devices by address. Guest accesses never make it throw: holes read as
 * zero (like Firecracker and crosvm) and are logged once per address and counted; a device failing
 * on a bad guest address is contained, counted and reads as zero.
 *
 * <p>Registration takes a lock and publishes a new immutable, sorted table; {@link #dispatch} reads
 * the current table without locking, so vCPU threads never contend here. Only the access's first
 * byte selects the device (crosvm's rule): an access straddling a device's end goes to that device,
 * which must bounds-check {@code offset + length} itself.
 */
public final class MmioBus {
    /** One registered device. */
    public record Region(long base, long length, String name, MmioDevice device) {
        public long end() {
            return base + length;
        }

        @Override
        public String toString() {
            return String.format("%s [0x%x, 0x%x)", name, base, end());
        }
    }

    @SuppressWarnings(
            "ArrayRecordComponent") // a copy-on-write snapshot swapped whole, read by index, never
    // compared
    private record Table(
            long[] bases, Region[] regions, LongAdder[] errors, AtomicBoolean[] errorLogged) {}

    /**
     * Distinct hole addresses logged; past this a guest probing memory could otherwise grow the set
     * forever.
     */
    static final int MAX_LOGGED_HOLES = 256;

    private static final System.Logger LOG = System.getLogger(MmioBus.class.getName());

    private volatile Table table =
            new Table(new long[0], new Region[0], new LongAdder[0], new AtomicBoolean[0]);
    private final LongAdder holeReads = new LongAdder();
    private final LongAdder holeWrites = new LongAdder();
    private final LongAdder deviceErrors = new LongAdder();
    private final Set<Long> loggedHoles = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean holeLogFull = new AtomicBoolean();

    /**
     * Adds a device at [base, base+length). Overlaps and empty or wrapping ranges are configuration
     * bugs, refused with both regions named.
     *
     * @throws IllegalArgumentException on a bad or overlapping range, or a duplicate name
     */
    public synchronized void register(long base, long length, MmioDevice device, String name) {
        if (device == null || name == null)
            throw new NullPointerException("device and name are required");
        if (base < 0 || length <= 0 || base + length < 0) {
            throw new IllegalArgumentException(
                    String.format(
                            "MMIO region %s: bad range base 0x%x length 0x%x", name, base, length));
        }
        Region added = new Region(base, length, name, device);
        Table t = table;
        int n = t.regions.length;
        for (Region r : t.regions) {
            if (r.name.equals(name))
                throw new IllegalArgumentException(
                        "MMIO region name " + name + " registered twice");
            if (base < r.end() && r.base < added.end()) {
                throw new IllegalArgumentException("MMIO region " + added + " overlaps " + r);
            }
        }
        int at =
                -Arrays.binarySearch(t.bases, base)
                        - 1; // no equal base: that would have overlapped
        Region[] regions = new Region[n + 1];
        LongAdder[] errors = new LongAdder[n + 1];
        AtomicBoolean[] logged = new AtomicBoolean[n + 1];
        long[] bases = new long[n + 1];
        System.arraycopy(t.regions, 0, regions, 0, at);
        System.arraycopy(t.regions, at, regions, at + 1, n - at);
        System.arraycopy(t.errors, 0, errors, 0, at);
        System.arraycopy(t.errors, at, errors, at + 1, n - at);
        System.arraycopy(t.errorLogged, 0, logged, 0, at);
        System.arraycopy(t.errorLogged, at, logged, at + 1, n - at);
        regions[at] = added;
        errors[at] = new LongAdder();
        logged[at] = new AtomicBoolean();
        for (int i = 0; i <= n; i++) bases[i] = regions[i].base;
        table = new Table(bases, regions, errors, logged);
    }

    /**
     * Removes the device registered as {@code name} (a PCI BAR the guest moved or turned off);
     * nothing when there is none.
     */
    public synchronized void unregister(String name) {
        Table t = table;
        int at = -1;
        for (int i = 0; i < t.regions.length; i++) if (t.regions[i].name.equals(name)) at = i;
        if (at < 0) return;
        int n = t.regions.length - 1;
        Region[] regions = new Region[n];
        LongAdder[] errors = new LongAdder[n];
        AtomicBoolean[] logged = new AtomicBoolean[n];
        long[] bases = new long[n];
        for (int i = 0, j = 0; i <= n; i++) {
            if (i == at) continue;
            regions[j] = t.regions[i];
            errors[j] = t.errors[i];
            logged[j] = t.errorLogged[i];
            bases[j] = t.bases[i];
            j++;
        }
        table = new Table(bases, regions, errors, logged);
    }

    /**
     * Performs one guest access. Reads fill {@code data}; writes consume it.
     *
     * @throws IllegalArgumentException if {@code data.length} is not 1, 2, 4 or 8 (a VMM bug: KVM
     *     never does that)
     */
    public void dispatch(long addr, byte[] data, boolean isWrite) {
        int len = data.length;
        if (len != 1 && len != 2 && len != 4 && len != 8) {
            throw new IllegalArgumentException(
                    "MMIO access of " + len + " bytes at 0x" + Long.toHexString(addr));
        }
        if (!isWrite) Arrays.fill(data, (byte) 0);
        Table t = table;
        int i = indexOf(t, addr);
        if (i < 0) {
            hole(addr, len, isWrite);
            return;
        }
        Region r = t.regions[i];
        try {
            if (isWrite) r.device.write(addr - r.base, data);
            else r.device.read(addr - r.base, data);
        } catch (GuestMemoryException | IndexOutOfBoundsException e) {
            if (!isWrite) Arrays.fill(data, (byte) 0);
            deviceErrors.increment();
            t.errors[i].increment();
            // First failure per device at WARNING; a guest repeating it must not flood stderr.
            Level level = t.errorLogged[i].compareAndSet(false, true) ? Level.WARNING : Level.DEBUG;
            LOG.log(
                    level,
                    () ->
                            String.format(
                                    "MMIO %s of %d bytes at 0x%x failed in device %s: %s",
                                    isWrite ? "write" : "read", len, addr, r.name, e.getMessage()));
        }
    }

    private static int indexOf(Table t, long addr) {
        int i = Arrays.binarySearch(t.bases, addr);
        if (i < 0) i = -i - 2; // last region starting below addr
        return i >= 0 && addr < t.regions[i].end() ? i : -1;
    }

    private void hole(long addr, int len, boolean isWrite) {
        (isWrite ? holeWrites : holeReads).increment();
        if (loggedHoles.size() < MAX_LOGGED_HOLES) {
            if (loggedHoles.add(addr)) {
                LOG.log(
                        Level.WARNING,
                        () ->
                                String.format(
                                        "MMIO %s of %d bytes at unmapped 0x%x ignored%s",
                                        isWrite ? "write" : "read",
                                        len,
                                        addr,
                                        isWrite ? "" : "; reads as 0"));
            }
        } else if (holeLogFull.compareAndSet(false, true)) {
            LOG.log(
                    Level.WARNING,
                    "MMIO accesses to more than "
                            + MAX_LOGGED_HOLES
                            + " distinct unmapped addresses; only counting from now on");
        }
    }

    /** The region containing {@code addr}, or null. */
    public Region find(long addr) {
        Table t = table;
        int i = indexOf(t, addr);
        return i < 0 ? null : t.regions[i];
    }

    /** Registered regions in address order. */
    public List<Region> regions() {
        return List.of(table.regions);
    }

    public long holeReads() {
        return holeReads.sum();
    }

    /** Distinct unmapped addresses logged so far (at most {@link #MAX_LOGGED_HOLES}). */
    int loggedHoleCount() {
        return loggedHoles.size();
    }

    public long holeWrites() {
        return holeWrites.sum();
    }

    /** Accesses a device failed on with a guest memory or bounds error, over all devices. */
    public long deviceErrors() {
        return deviceErrors.sum();
    }

    /** Failed accesses of the named device; 0 for an unknown name. */
    public long deviceErrors(String name) {
        Table t = table;
        for (int i = 0; i < t.regions.length; i++) {
            if (t.regions[i].name.equals(name)) return t.errors[i].sum();
        }
        return 0;
    }

    @Override
    public String toString() {
        List<String> s = new ArrayList<>();
        for (Region r : table.regions) s.add(r.toString());
        return "MmioBus" + s;
    }
}
