package dev.jvmm.core.pci;

/**
 * The MSI-X capability structure (ID 0x11, 12 bytes) in config space, over a {@link MsixTable}:
 * Message Control (Table Size read-only; enable and function mask writable), then the table's and
 * the PBA's BAR indicator and offset, read-only. Offsets are relative to the capability; {@link
 * PciHeader#attach} routes the guest's accesses here.
 */
public final class MsixCapability implements PciFunction {
    public static final int ID = 0x11;
    public static final int LENGTH = 12;
    public static final int CONTROL = 2, TABLE = 4, PBA = 8;

    private final MsixTable table;
    private final int next;
    private final int tableLocation;
    private final int pbaLocation;

    /**
     * @param next the next capability's config offset, 0 for the last
     * @param bar the BAR (0-5) holding both structures
     * @param tableOffset where the table starts in that BAR (8-byte aligned)
     * @param pbaOffset where the PBA starts in that BAR (8-byte aligned)
     */
    public MsixCapability(MsixTable table, int next, int bar, int tableOffset, int pbaOffset) {
        if (bar < 0 || bar > 5 || (tableOffset & 7) != 0 || (pbaOffset & 7) != 0)
            throw new IllegalArgumentException("MSI-X BIR/offset");
        this.table = table;
        this.next = next;
        this.tableLocation = tableOffset | bar;
        this.pbaLocation = pbaOffset | bar;
    }

    public MsixTable table() {
        return table;
    }

    /** The 12 bytes as they read at power-on, for a header's static capability list. */
    public byte[] bytes() {
        byte[] b = new byte[LENGTH];
        for (int i = 0; i < LENGTH; i++) b[i] = (byte) byteAt(i);
        return b;
    }

    @Override
    public int configRead(int offset, int size) {
        int v = 0;
        for (int i = 0; i < size; i++) v |= byteAt(offset + i) << (8 * i);
        return v;
    }

    @Override
    public void configWrite(int offset, int size, int value) {
        // only Message Control's upper byte holds writable bits; take whichever of its two bytes
        // this access covers and keep the other
        int control = table.control();
        boolean touched = false;
        for (int i = 0; i < size; i++) {
            int o = offset + i;
            if (o != CONTROL && o != CONTROL + 1) continue;
            int shift = 8 * (o - CONTROL);
            control = (control & ~(0xff << shift)) | ((value >>> (8 * i)) & 0xff) << shift;
            touched = true;
        }
        if (touched) table.writeControl(control);
    }

    private int byteAt(int o) {
        int word =
                switch (o & ~3) {
                    case 0 -> ID | next << 8 | table.control() << 16;
                    case TABLE -> tableLocation;
                    case PBA -> pbaLocation;
                    default -> 0;
                };
        return (word >>> (8 * (o & 3))) & 0xff;
    }
}
