package dev.jvmm.core.pci;

/**
 * A type-0 PCI configuration header with one 32-bit non-prefetchable memory BAR (BAR0) and a
 * capability list at 0x40, for an endpoint on the host bridge.
 *
 * <p>The guest may write only what real hardware lets it: the command register's memory-space,
 * bus-master and INTx-disable bits, the cache-line size, the interrupt line and BAR0's address
 * bits; every other byte (IDs, class, status, the other BARs, the capabilities) is read-only and a
 * write to it is dropped. BAR0 is sized the way Linux does it: write all ones, read back the size
 * mask (the low bits of an aligned power-of-two size read as 0). Whenever memory decoding or BAR0's
 * address changes, the {@link BarListener} hears where the BAR now decodes (or that it stopped).
 * Offsets past the 256-byte header (extended config space) read as 0: no extended capabilities. A
 * capability with live registers (MSI-X) is {@link #attach}ed over its bytes in the list.
 */
public final class PciHeader implements PciFunction {
    /** Where BAR0 decodes: {@link #UNMAPPED} when memory decoding is off. */
    @FunctionalInterface
    public interface BarListener {
        void barMoved(long from, long to);
    }

    public static final long UNMAPPED = -1;

    public static final int COMMAND = 0x04;
    public static final int STATUS = 0x06;
    public static final int BAR0 = 0x10;
    public static final int CAPABILITIES_POINTER = 0x34;
    public static final int INTERRUPT_LINE = 0x3c;
    public static final int INTERRUPT_PIN = 0x3d;
    public static final int CAPABILITIES_START = 0x40;

    public static final int COMMAND_MEMORY = 0x2;
    public static final int COMMAND_BUS_MASTER = 0x4;
    public static final int COMMAND_INTX_DISABLE = 0x400;
    private static final int STATUS_CAPABILITIES = 0x10;
    private static final int SIZE = 256;

    private final byte[] cfg = new byte[SIZE];
    private final byte[] writable = new byte[SIZE];
    private final long barSize;
    private int bar; // BAR0 as the guest reads it
    private long decoding = UNMAPPED;
    private BarListener listener = (from, to) -> {};
    private volatile int regionStart = SIZE, regionEnd = SIZE;
    private volatile PciFunction region;

    /**
     * @param ids vendor ID (low 16 bits) and device ID (high 16 bits)
     * @param classRevision class code (high 24 bits) and revision ID (low 8 bits)
     * @param subsystem subsystem vendor ID (low 16 bits) and subsystem ID (high 16 bits)
     * @param barSize BAR0's size: a power of two, at least 4 KiB (a page, as the PCI spec advises)
     * @param capabilities the capability list bytes placed at 0x40 (their next pointers already
     *     absolute), at most 192 bytes
     */
    public PciHeader(int ids, int classRevision, int subsystem, long barSize, byte[] capabilities) {
        if (Long.bitCount(barSize) != 1 || barSize < 0x1000 || barSize > 0x8000_0000L)
            throw new IllegalArgumentException("BAR size 0x" + Long.toHexString(barSize));
        if (capabilities.length > SIZE - CAPABILITIES_START)
            throw new IllegalArgumentException("capabilities do not fit the header");
        this.barSize = barSize;
        put(0x00, 4, ids);
        put(0x08, 4, classRevision);
        put(0x2c, 4, subsystem);
        put(INTERRUPT_PIN, 1, 1); // INTA#
        if (capabilities.length > 0) {
            put(STATUS, 2, STATUS_CAPABILITIES);
            put(CAPABILITIES_POINTER, 1, CAPABILITIES_START);
            System.arraycopy(capabilities, 0, cfg, CAPABILITIES_START, capabilities.length);
        }
        writable[COMMAND] = (byte) (COMMAND_MEMORY | COMMAND_BUS_MASTER);
        writable[COMMAND + 1] = (byte) (COMMAND_INTX_DISABLE >>> 8);
        writable[0x0c] = (byte) 0xff; // cache-line size
        writable[INTERRUPT_LINE] = (byte) 0xff;
    }

    /** Who maps BAR0 when the guest moves it; set once, before the guest runs. */
    public synchronized void setBarListener(BarListener l) {
        listener = l;
    }

    /**
     * Hands config accesses to {@code [offset, offset + length)} to {@code f} (offsets relative to
     * {@code offset}), for a capability whose registers live elsewhere; once, before the guest
     * runs. The range is dword-aligned inside the capability area, so no aligned access straddles
     * it.
     */
    public void attach(int offset, int length, PciFunction f) {
        if (offset < CAPABILITIES_START
                || (offset & 3) != 0
                || (length & 3) != 0
                || length <= 0
                || offset + length > SIZE
                || region != null)
            throw new IllegalArgumentException(
                    "capability region 0x" + Integer.toHexString(offset));
        region = f; // published before the range a reader checks first
        regionEnd = offset + length;
        regionStart = offset;
    }

    public long barSize() {
        return barSize;
    }

    /** Where BAR0 decodes now, {@link #UNMAPPED} while memory decoding is off. */
    public synchronized long decoding() {
        return decoding;
    }

    public synchronized int command() {
        return get(COMMAND, 2);
    }

    /**
     * The guest set INTx-disable (it uses MSI/MSI-X, or wants no interrupts from this function).
     */
    public synchronized boolean intxDisabled() {
        return (get(COMMAND, 2) & COMMAND_INTX_DISABLE) != 0;
    }

    @Override
    public int configRead(int offset, int size) {
        if (offset >= regionStart && offset < regionEnd)
            return region.configRead(offset - regionStart, size);
        return headerRead(offset, size);
    }

    private synchronized int headerRead(int offset, int size) {
        if (offset >= SIZE) return 0;
        int v = 0;
        for (int i = 0; i < size; i++) {
            int o = offset + i;
            int b = o >= BAR0 && o < BAR0 + 4 ? (bar >>> (8 * (o - BAR0))) & 0xff : cfg[o] & 0xff;
            v |= b << (8 * i);
        }
        return v;
    }

    @Override
    public void configWrite(int offset, int size, int value) {
        if (offset >= regionStart && offset < regionEnd) {
            region.configWrite(offset - regionStart, size, value);
            return;
        }
        headerWrite(offset, size, value);
    }

    private synchronized void headerWrite(int offset, int size, int value) {
        if (offset >= SIZE) return;
        for (int i = 0; i < size; i++) {
            int o = offset + i;
            int b = (value >>> (8 * i)) & 0xff;
            if (o >= BAR0 && o < BAR0 + 4) {
                int shift = 8 * (o - BAR0);
                bar = (bar & ~(0xff << shift)) | (b << shift);
            } else {
                cfg[o] = (byte) ((cfg[o] & ~writable[o]) | (b & writable[o]));
            }
        }
        // 32-bit memory BAR, not prefetchable: type bits 0; address bits below the size read 0
        bar &= (int) ~(barSize - 1);
        long now = (get(COMMAND, 2) & COMMAND_MEMORY) != 0 ? Integer.toUnsignedLong(bar) : UNMAPPED;
        if (now != decoding) {
            long was = decoding;
            decoding = now;
            listener.barMoved(was, now);
        }
    }

    /** The fields the guest can change, for a snapshot. */
    public synchronized PciFunctionState saveState() {
        return new PciFunctionState(
                get(COMMAND, 2), Integer.toUnsignedLong(bar), get(0x0c, 1), get(INTERRUPT_LINE, 1));
    }

    /**
     * Why {@code s} cannot be this function's state (a snapshot is input), or null when it fits:
     * only the command bits the function implements, a 32-bit BAR0 aligned to its size, byte-wide
     * registers within a byte.
     */
    public String stateProblem(PciFunctionState s) {
        int writableCommand = COMMAND_MEMORY | COMMAND_BUS_MASTER | COMMAND_INTX_DISABLE;
        if ((s.command() & ~writableCommand) != 0)
            return String.format(
                    "command 0x%x has bits the function does not implement", s.command());
        if (s.bar0() < 0 || s.bar0() > 0xffff_ffffL)
            return String.format("BAR0 0x%x is not a 32-bit address", s.bar0());
        if ((s.bar0() & (barSize - 1)) != 0)
            return String.format("BAR0 0x%x is not aligned to its size 0x%x", s.bar0(), barSize);
        if ((s.cacheLineSize() & ~0xff) != 0)
            return "cacheLineSize " + s.cacheLineSize() + " is not a byte";
        if ((s.interruptLine() & ~0xff) != 0)
            return "interruptLine " + s.interruptLine() + " is not a byte";
        return null;
    }

    /**
     * Puts this freshly built function into {@code s} as the guest would have: BAR0 first, then the
     * command register, so the {@link BarListener} hears the restored address once, when decoding
     * turns on (the BAR is mapped and its notifications registered there). Check it with {@link
     * #stateProblem} first.
     */
    public synchronized void restoreState(PciFunctionState s) {
        String problem = stateProblem(s);
        if (problem != null) throw new IllegalArgumentException(problem);
        if (decoding != UNMAPPED || get(COMMAND, 2) != 0)
            throw new IllegalStateException("restore into a function the guest has used");
        configWrite(0x0c, 1, s.cacheLineSize());
        configWrite(INTERRUPT_LINE, 1, s.interruptLine());
        configWrite(BAR0, 4, (int) s.bar0());
        configWrite(COMMAND, 2, s.command());
    }

    /** Back to power-on values (an in-place reboot): decoding off, BAR0 0, INTx enabled. */
    public synchronized void reset() {
        headerWrite(COMMAND, 2, 0);
        headerWrite(BAR0, 4, 0);
        headerWrite(0x0c, 1, 0);
        headerWrite(INTERRUPT_LINE, 1, 0);
    }

    private int get(int offset, int size) {
        int v = 0;
        for (int i = 0; i < size; i++) v |= (cfg[offset + i] & 0xff) << (8 * i);
        return v;
    }

    private void put(int offset, int size, int value) {
        for (int i = 0; i < size; i++) cfg[offset + i] = (byte) (value >>> (8 * i));
    }
}
