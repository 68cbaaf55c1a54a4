package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What KVM_SET_GSI_ROUTING receives for a table (the offsets themselves are checked against the
 * kernel header by BindingsMatchCompilerTest).
 */
class IrqRoutingTest {
    private static int u32(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_INT_UNALIGNED, off);
    }

    @Test
    void entriesLandAtTheKernelsOffsetsAndTheRestIsZero() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s =
                    IrqRouting.encode(
                            a,
                            List.of(
                                    new IrqRoute.Irqchip(4, 4),
                                    new IrqRoute.Msi(96, 0x1_3ffc_0040L, 7, 0x18, true),
                                    new IrqRoute.Msi(97, 0x3ffc_0040L, 9, 0x18, false)));
            assertEquals(8 + 3 * 48, s.byteSize());
            assertEquals(3, u32(s, 0), "nr");
            assertEquals(0, u32(s, 4), "flags must be 0");
            long e0 = 8, e1 = 56, e2 = 104;
            assertEquals(4, u32(s, e0));
            assertEquals(1, u32(s, e0 + 4), "KVM_IRQ_ROUTING_IRQCHIP");
            assertEquals(0, u32(s, e0 + 8));
            assertEquals(0, u32(s, e0 + 16), "irqchip 0");
            assertEquals(4, u32(s, e0 + 20), "pin = SPI number");
            assertEquals(96, u32(s, e1));
            assertEquals(2, u32(s, e1 + 4), "KVM_IRQ_ROUTING_MSI");
            assertEquals(1, u32(s, e1 + 8), "KVM_MSI_VALID_DEVID");
            assertEquals(0x3ffc_0040, u32(s, e1 + 16));
            assertEquals(1, u32(s, e1 + 20), "address_hi");
            assertEquals(7, u32(s, e1 + 24));
            assertEquals(0x18, u32(s, e1 + 28), "devid");
            assertEquals(0, u32(s, e2 + 8), "no VALID_DEVID flag");
            assertEquals(0, u32(s, e2 + 28), "and no device ID");
            for (long off = e1 + 32; off < e2; off += 4) assertEquals(0, u32(s, off), "pad");
        }
    }
}
