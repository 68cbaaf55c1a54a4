package dev.jvmm.core.pci;

import dev.jvmm.core.device.MmioDevice;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The config space of a {@code pci-host-ecam-generic} host bridge with one bus: ECAM's address
 * decode (bus in bits 27-20, device 19-15, function 14-12, register 11-0) onto up to 32
 * single-function devices on bus 0. As on real hardware, a read of an absent bus, device or
 * function returns all ones (which Linux's enumeration takes as "nothing here") and a write to it
 * is dropped; so are accesses of a size other than 1, 2 or 4 bytes or not naturally aligned, which
 * are also counted and logged once.
 */
public final class PciEcam implements MmioDevice {
    /** ECAM's 1 MiB per bus, 32 devices of 8 functions of 4 KiB each. */
    public static final int FUNCTION_SHIFT = 12;

    public static final int DEVICES = 32;

    private static final System.Logger LOG = System.getLogger(PciEcam.class.getName());

    private final PciFunction[] devices = new PciFunction[DEVICES];
    private final LongAdder badAccesses = new LongAdder();
    private final AtomicBoolean logged = new AtomicBoolean();

    /** Puts {@code f} at device number {@code device}, function 0, before the guest runs. */
    public synchronized void attach(int device, PciFunction f) {
        if (device < 0 || device >= DEVICES)
            throw new IllegalArgumentException("PCI device number " + device + " is not 0-31");
        if (devices[device] != null)
            throw new IllegalArgumentException("PCI device number " + device + " is taken");
        devices[device] = f;
    }

    /** Accesses refused for their size or alignment. */
    public long badAccesses() {
        return badAccesses.sum();
    }

    @Override
    public void read(long offset, byte[] data) {
        PciFunction f = decode(offset, data.length, false);
        if (f == null) {
            Arrays.fill(data, (byte) 0xff);
            return;
        }
        int v = f.configRead((int) (offset & 0xfff), data.length);
        for (int i = 0; i < data.length; i++) data[i] = (byte) (v >>> (8 * i));
    }

    @Override
    public void write(long offset, byte[] data) {
        PciFunction f = decode(offset, data.length, true);
        if (f == null) return;
        int v = 0;
        for (int i = 0; i < data.length; i++) v |= (data[i] & 0xff) << (8 * i);
        f.configWrite((int) (offset & 0xfff), data.length, v);
    }

    private PciFunction decode(long offset, int size, boolean isWrite) {
        if ((size != 1 && size != 2 && size != 4) || (offset & (size - 1)) != 0) {
            badAccesses.increment();
            Level level = logged.compareAndSet(false, true) ? Level.WARNING : Level.DEBUG;
            LOG.log(
                    level,
                    () ->
                            String.format(
                                    "PCI config %s of %d bytes at ECAM offset 0x%x ignored:"
                                            + " accesses are 1, 2 or 4 bytes, naturally aligned",
                                    isWrite ? "write" : "read", size, offset));
            return null;
        }
        long bus = offset >>> 20;
        int device = (int) (offset >>> 15) & 0x1f;
        int function = (int) (offset >>> FUNCTION_SHIFT) & 7;
        if (bus != 0 || function != 0) return null;
        synchronized (this) {
            return devices[device];
        }
    }

    /** Reads a 4-byte little-endian value the way a guest would (for tests and diagnostics). */
    public int read32(long offset) {
        byte[] b = new byte[4];
        read(offset, b);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }
}
