package dev.jvmm.core.pci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ECAM decode and the config header against a hostile guest. */
class PciEcamTest {
    private static final int IDS = 0x1042_1af4;
    private final PciEcam ecam = new PciEcam();
    private final PciHeader header =
            new PciHeader(IDS, 0x0180_0001, 0x0002_1af4, 0x4000, new byte[] {9, 0, 4, 1});
    private final List<long[]> moves = new ArrayList<>();

    PciEcamTest() {
        header.setBarListener((from, to) -> moves.add(new long[] {from, to}));
        ecam.attach(3, header);
    }

    private static long at(int bus, int device, int function, int reg) {
        return ((long) bus << 20) | (device << 15) | (function << 12) | reg;
    }

    private byte[] read(long off, int len) {
        byte[] d = new byte[len];
        ecam.read(off, d);
        return d;
    }

    private void write(long off, int len, int v) {
        byte[] d = new byte[len];
        for (int i = 0; i < len; i++) d[i] = (byte) (v >>> (8 * i));
        ecam.write(off, d);
    }

    @Test
    void decodesBusDeviceFunctionAndRegister() {
        assertEquals(IDS, ecam.read32(at(0, 3, 0, 0)));
        byte[] device = read(at(0, 3, 0, 2), 2);
        assertEquals(0x1042, (device[0] & 0xff) | (device[1] & 0xff) << 8, "a 2-byte read");
        assertEquals(0x01, read(at(0, 3, 0, 8), 1)[0], "revision");
        assertEquals(0x40, read(at(0, 3, 0, 0x34), 1)[0], "capabilities pointer");
        assertEquals(9, read(at(0, 3, 0, 0x40), 1)[0], "the capability bytes at 0x40");
        assertEquals(0, ecam.read32(at(0, 3, 0, 0x100)), "no extended capabilities");
    }

    @Test
    void absentDevicesFunctionsAndBusesReadAllOnes() {
        assertEquals(-1, ecam.read32(at(0, 0, 0, 0)));
        assertEquals(-1, ecam.read32(at(0, 3, 1, 0)), "function 1 of a single-function device");
        assertEquals(-1, ecam.read32(at(1, 3, 0, 0)), "bus 1");
        assertEquals(-1, ecam.read32(at(255, 31, 7, 0xffc)));
        write(at(0, 0, 0, 4), 2, 0xffff); // nothing there to take it
        assertEquals(-1, ecam.read32(at(0, 0, 0, 4)));
        assertEquals(0, ecam.badAccesses(), "absent is not bad");
    }

    @Test
    void oddSizesAndUnalignedAccessesReadAllOnesAndWriteNothing() {
        assertArrayEquals(new byte[] {-1, -1, -1, -1}, read(at(0, 3, 0, 1), 4), "unaligned dword");
        assertArrayEquals(new byte[] {-1, -1}, read(at(0, 3, 0, 3), 2), "unaligned word");
        byte[] eight = read(at(0, 3, 0, 0), 8);
        for (byte b : eight) assertEquals(-1, b, "8-byte config reads are not PCI");
        write(at(0, 3, 0, 0x05), 2, 0x0606); // unaligned command write
        write(at(0, 3, 0, 0x10), 8, 0); // 8-byte BAR write
        assertEquals(0, header.command());
        assertEquals(5, ecam.badAccesses());
        assertEquals(List.of(), moves);
    }

    @Test
    void readOnlyFieldsIgnoreWrites() {
        write(at(0, 3, 0, 0), 4, 0);
        write(at(0, 3, 0, 8), 4, -1);
        write(at(0, 3, 0, 0x2c), 4, 0);
        write(at(0, 3, 0, 0x34), 1, 0x80);
        write(at(0, 3, 0, 0x40), 4, 0);
        write(at(0, 3, 0, 0x14), 4, -1); // BAR1: not implemented
        write(at(0, 3, 0, 0x06), 2, 0xffff); // status: no RW1C bits to clear
        write(at(0, 3, 0, 0x3d), 1, 4);
        assertEquals(IDS, ecam.read32(at(0, 3, 0, 0)));
        assertEquals(0x0180_0001, ecam.read32(at(0, 3, 0, 8)));
        assertEquals(0x0002_1af4, ecam.read32(at(0, 3, 0, 0x2c)));
        assertEquals(0x40, ecam.read32(at(0, 3, 0, 0x34)));
        assertEquals(0x0104_0009, ecam.read32(at(0, 3, 0, 0x40)));
        assertEquals(0, ecam.read32(at(0, 3, 0, 0x14)));
        assertEquals(0x0010_0000, ecam.read32(at(0, 3, 0, 4)), "status keeps only 'capabilities'");
        assertEquals(1, read(at(0, 3, 0, 0x3d), 1)[0], "interrupt pin");
        write(at(0, 3, 0, 4), 2, 0xffff);
        assertEquals(0x0406, header.command(), "only memory, bus master and INTx-disable stick");
        write(at(0, 3, 0, 0x3c), 1, 42);
        assertEquals(42, read(at(0, 3, 0, 0x3c), 1)[0], "interrupt line is the OS's scratch byte");
    }

    @Test
    void barSizingAsLinuxDoesIt() {
        int bar = (int) at(0, 3, 0, 0x10);
        assertEquals(0, ecam.read32(bar), "32-bit memory, not prefetchable, unassigned");
        write(bar, 4, -1);
        assertEquals(~(0x4000 - 1), ecam.read32(bar), "size mask: 16 KiB");
        write(bar, 4, 0x5000_1234);
        assertEquals(0x5000_0000, ecam.read32(bar), "address bits below the size read 0");
        assertEquals(List.of(), moves, "decoding off: nothing mapped yet");
        write(at(0, 3, 0, 4), 2, PciHeader.COMMAND_MEMORY);
        assertEquals(1, moves.size());
        assertArrayEquals(new long[] {PciHeader.UNMAPPED, 0x5000_0000L}, moves.get(0));
        // a byte-wise move while decoding: each byte write moves it (as hardware would)
        write(bar + 3, 1, 0x60);
        assertArrayEquals(new long[] {0x5000_0000L, 0x6000_0000L}, moves.get(1));
        write(at(0, 3, 0, 4), 2, 0);
        assertArrayEquals(new long[] {0x6000_0000L, PciHeader.UNMAPPED}, moves.get(2));
        write(bar, 4, -1); // sizing with decoding off moves nothing
        assertEquals(3, moves.size());
    }

    @Test
    void attachRefusesBadOrTakenDeviceNumbers() {
        assertThrows(IllegalArgumentException.class, () -> ecam.attach(3, header));
        assertThrows(IllegalArgumentException.class, () -> ecam.attach(32, header));
        assertThrows(
                IllegalArgumentException.class,
                () -> new PciHeader(IDS, 0, 0, 0x3000, new byte[0]),
                "BAR size not a power of two");
    }
}
