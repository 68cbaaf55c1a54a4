package dev.jvmm.core.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The MSI-X capability in a config header, through ECAM as the guest reaches it: what Linux's
 * pci_msix_* reads (ID, Table Size, BIR and offsets), which bits of Message Control it may write,
 * and that the rest of the header is unaffected.
 */
class MsixCapabilityTest {
    private final MsixTable table =
            new MsixTable(
                    5,
                    new MsixTable.Sink() {
                        @Override
                        public void routes(Map<Integer, MsiMessage> changed) {}

                        @Override
                        public void fire(int vector) {}
                    });
    private final MsixCapability cap = new MsixCapability(table, 0, 0, 0x4000, 0x5000);
    private final PciHeader header;
    private final PciEcam ecam = new PciEcam();

    MsixCapabilityTest() {
        byte[] caps = new byte[16 + MsixCapability.LENGTH];
        caps[0] = 9; // a vendor capability at 0x40 pointing to MSI-X at 0x50
        caps[1] = 0x50;
        caps[2] = 16;
        System.arraycopy(cap.bytes(), 0, caps, 16, MsixCapability.LENGTH);
        header = new PciHeader(0x1042_1af4, 0x0180_0001, 0x0002_1af4, 0x8000, caps);
        header.attach(0x50, MsixCapability.LENGTH, cap);
        ecam.attach(2, header);
    }

    private long at(int reg) {
        return (2L << 15) | reg;
    }

    private int read(int reg, int size) {
        byte[] d = new byte[size];
        ecam.read(at(reg), d);
        int v = 0;
        for (int i = 0; i < size; i++) v |= (d[i] & 0xff) << (8 * i);
        return v;
    }

    private void write(int reg, int size, int v) {
        byte[] d = new byte[size];
        for (int i = 0; i < size; i++) d[i] = (byte) (v >>> (8 * i));
        ecam.write(at(reg), d);
    }

    /** Linux's pci_find_capability(dev, PCI_CAP_ID_MSIX). */
    private int findMsix() {
        int pos = read(0x34, 1);
        for (int n = 0; pos != 0 && n < 48; n++) {
            if (read(pos, 1) == MsixCapability.ID) return pos;
            pos = read(pos + 1, 1);
        }
        return 0;
    }

    @Test
    void linuxFindsTheTableAndItsSize() {
        int pos = findMsix();
        assertEquals(0x50, pos);
        assertEquals(0, read(pos + 1, 1), "the last capability");
        assertEquals(4, read(pos + 2, 2) & 0x7ff, "Table Size is N - 1");
        assertEquals(0x4000, read(pos + 4, 4), "table in BAR0 at 0x4000");
        assertEquals(0x5000, read(pos + 8, 4), "PBA in BAR0 at 0x5000");
        assertEquals(0x0011 | 4 << 16, read(pos, 4), "a DWORD read of the first word");
    }

    @Test
    void onlyEnableAndFunctionMaskAreWritable() {
        write(0x52, 2, 0xffff);
        assertEquals(0xc004, read(0x52, 2));
        assertTrue(table.enabled());
        write(0x53, 1, 0x80); // the upper byte alone: enable, function mask cleared
        assertEquals(0x8004, read(0x52, 2));
        write(0x50, 4, 0x0000_0000); // the DWORD with ID and next: control cleared, ID kept
        assertEquals(0x0004, read(0x52, 2));
        assertFalse(table.enabled());
        assertEquals(0x11, read(0x50, 1));
        write(0x54, 4, -1);
        write(0x58, 4, -1);
        assertEquals(0x4000, read(0x54, 4), "the table's location is read-only");
        assertEquals(0x5000, read(0x58, 4));
    }

    @Test
    void theRestOfTheHeaderIsUnaffected() {
        write(0x04, 2, 0x6);
        write(0x52, 2, 0x8000);
        assertEquals(0x6, read(0x04, 2));
        assertEquals(9, read(0x40, 1));
        assertEquals(0, read(0x5c, 4), "past the capability");
        assertEquals(0, read(0x100, 4));
    }

    @Test
    void randomConfigWritesNeverThrowAndKeepTheReadOnlyParts() {
        Random r = new Random(11);
        for (int i = 0; i < 10_000; i++) {
            int size = new int[] {1, 2, 4}[r.nextInt(3)];
            int reg = (0x40 + r.nextInt(0x30)) & ~(size - 1);
            write(reg, size, r.nextInt());
            read(reg, size);
            assertEquals(0x11, read(0x50, 1));
            assertEquals(4, read(0x52, 2) & 0x3fff);
            assertEquals(0x4000, read(0x54, 4));
        }
    }

    @Test
    void attachIsCheckedAndOnce() {
        PciHeader h = new PciHeader(0, 0, 0, 0x1000, new byte[0]);
        assertThrows(IllegalArgumentException.class, () -> h.attach(0x3c, 12, cap));
        assertThrows(IllegalArgumentException.class, () -> h.attach(0x42, 12, cap));
        assertThrows(IllegalArgumentException.class, () -> h.attach(0xf8, 12, cap));
        h.attach(0x40, 12, cap);
        assertThrows(IllegalArgumentException.class, () -> h.attach(0x60, 12, cap));
    }
}
