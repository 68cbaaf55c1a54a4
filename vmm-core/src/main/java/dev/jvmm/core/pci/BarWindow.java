package dev.jvmm.core.pci;

import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The host bridge's 32-bit memory window and the BARs decoding in it. A guest places BARs where it
 * likes; a BAR is mapped only when it lies wholly inside the window (so never over RAM, the GIC or
 * another platform device) and over no other mapped BAR. A refused placement is logged and the BAR
 * stays unmapped (accesses to it hit a hole) until the guest moves it somewhere valid.
 */
public final class BarWindow {
    private static final System.Logger LOG = System.getLogger(BarWindow.class.getName());

    /** What mapping a BAR means for its device (bus registration, ioeventfds). */
    public interface Mapping {
        void map(long base);

        void unmap(long base);
    }

    private record Placed(String name, long base, long size) {}

    private final long base;
    private final long end;
    private final Map<String, Placed> placed = new LinkedHashMap<>();

    /** The window {@code [base, end)}. */
    public BarWindow(long base, long end) {
        this.base = base;
        this.end = end;
    }

    /** The listener for the BAR of {@code size} bytes called {@code name} (unique). */
    public PciHeader.BarListener listener(String name, long size, Mapping mapping) {
        return (from, to) -> move(name, size, mapping, to);
    }

    /** Where {@code name} is mapped, or {@link PciHeader#UNMAPPED}. */
    public synchronized long mappedAt(String name) {
        Placed p = placed.get(name);
        return p == null ? PciHeader.UNMAPPED : p.base;
    }

    private synchronized void move(String name, long size, Mapping mapping, long to) {
        Placed old = placed.remove(name);
        if (old != null) mapping.unmap(old.base);
        if (to == PciHeader.UNMAPPED) return;
        String why = null;
        if (to < base || to + size > end) {
            why = String.format("outside the PCI memory window [0x%x, 0x%x)", base, end);
        } else {
            for (Placed p : placed.values()) {
                if (to < p.base + p.size && p.base < to + size) {
                    why = "over " + p.name + "'s BAR at 0x" + Long.toHexString(p.base);
                    break;
                }
            }
        }
        if (why != null) {
            String msg =
                    String.format(
                            "%s: BAR at 0x%x (0x%x bytes) is %s; left unmapped",
                            name, to, size, why);
            LOG.log(Level.WARNING, msg);
            return;
        }
        mapping.map(to);
        placed.put(name, new Placed(name, to, size));
    }
}
