package dev.jvmm.core.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where a guest may place BARs: wholly inside the window, over no other BAR. */
class BarWindowTest {
    private static final long BASE = 0x5000_0000L, END = 0x8000_0000L, SIZE = 0x4000;
    private final BarWindow window = new BarWindow(BASE, END);
    private final List<String> log = new ArrayList<>();

    private PciHeader device(String name) {
        PciHeader h = new PciHeader(0x1041_1af4, 0, 0, SIZE, new byte[0]);
        h.setBarListener(
                window.listener(
                        name,
                        SIZE,
                        new BarWindow.Mapping() {
                            @Override
                            public void map(long base) {
                                log.add(name + "+" + Long.toHexString(base));
                            }

                            @Override
                            public void unmap(long base) {
                                log.add(name + "-" + Long.toHexString(base));
                            }
                        }));
        return h;
    }

    private static void place(PciHeader h, long address) {
        h.configWrite(PciHeader.BAR0, 4, (int) address);
        h.configWrite(PciHeader.COMMAND, 2, PciHeader.COMMAND_MEMORY);
    }

    @Test
    void aBarInsideTheWindowIsMappedAndFollowsMoves() {
        PciHeader a = device("a");
        place(a, BASE);
        a.configWrite(PciHeader.BAR0, 4, (int) (BASE + SIZE));
        assertEquals(List.of("a+50000000", "a-50000000", "a+50004000"), log);
        assertEquals(BASE + SIZE, window.mappedAt("a"));
    }

    @Test
    void barsOverRamOrOutsideTheWindowStayUnmapped() {
        PciHeader a = device("a");
        place(a, 0x8000_0000L); // RAM
        place(a, 0x4000_0000L); // the ECAM space
        place(a, 0); // never assigned
        place(a, (END - SIZE / 2) & ~(SIZE - 1)); // the last whole BAR fits
        assertEquals(List.of("a+7fffc000"), log);
    }

    @Test
    void aBarOverAnotherIsRefusedUntilMovedAway() {
        PciHeader a = device("a"), b = device("b");
        place(a, BASE);
        place(b, BASE);
        assertEquals(List.of("a+50000000"), log);
        assertEquals(PciHeader.UNMAPPED, window.mappedAt("b"));
        b.configWrite(PciHeader.BAR0, 4, (int) (BASE + 2 * SIZE));
        assertEquals(List.of("a+50000000", "b+50008000"), log);
        a.configWrite(PciHeader.COMMAND, 2, 0);
        place(b, BASE); // a gave the spot up
        assertEquals(BASE, window.mappedAt("b"));
    }
}
