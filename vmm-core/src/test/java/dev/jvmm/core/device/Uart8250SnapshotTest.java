package dev.jvmm.core.device;

import static dev.jvmm.core.device.Uart8250DeviceTest.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.StateJson;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The 8250 across a snapshot: the guest reads the same registers and bytes, the line stays up. */
class Uart8250SnapshotTest {
    private static final int FIFO = 16;

    private static int in(Uart8250Device u, int reg) {
        byte[] d = new byte[1];
        u.read(reg, d);
        return d[0] & 0xff;
    }

    private static void out(Uart8250Device u, int reg, int v) {
        u.write(reg, new byte[] {(byte) v});
    }

    /**
     * A guest-driven state with something in every register: divisor 0x0103, 7E1 framing, FIFO on,
     * loopback off, scratch written, every interrupt enabled, three unread bytes plus an overrun.
     */
    private static Uart8250Device busy(Uart8250DeviceTest.Edges irq) {
        Uart8250Device u = new Uart8250Device(irq, new ByteArrayOutputStream(), FIFO);
        out(u, LCR, 0x80);
        out(u, DLL, 0x03);
        out(u, DLM, 0x01);
        out(u, LCR, 0x1a);
        out(u, FCR, 0x41);
        out(u, MCR, 0x0b);
        out(u, SCR, 0x5a);
        out(u, IER, IER_RDI | IER_THRI | IER_RLSI | IER_MSI);
        u.enqueueInput("0123456789abcdefXY".getBytes(StandardCharsets.US_ASCII)); // 2 overrun
        for (int i = 0; i < FIFO - 3; i++) in(u, RBR); // three left: "def"
        return u;
    }

    /** What a guest's driver sees reading the UART dry, register by register. */
    private static List<Integer> guestView(Uart8250Device u) {
        List<Integer> seen = new ArrayList<>();
        seen.add(in(u, IER));
        seen.add(in(u, LCR));
        seen.add(in(u, MCR));
        seen.add(in(u, SCR));
        for (int i = 0; i < 6; i++) {
            seen.add(in(u, IIR));
            seen.add(in(u, LSR));
            seen.add(in(u, MSR));
            seen.add(in(u, RBR));
        }
        out(u, LCR, 0x9a);
        seen.add(in(u, DLL));
        seen.add(in(u, DLM));
        out(u, LCR, 0x1a);
        seen.add(u.irqHigh() ? 1 : 0);
        return seen;
    }

    private static Uart8250Device restored(String json, Uart8250DeviceTest.Edges irq) {
        Uart8250Device fresh = new Uart8250Device(irq, new ByteArrayOutputStream(), FIFO);
        fresh.restoreState(StateJson.read(json, Uart8250State.class, fresh.stateKey()));
        return fresh;
    }

    @Test
    void restoredUartBehavesAsTheSavedOne() {
        Uart8250DeviceTest.Edges irq = new Uart8250DeviceTest.Edges();
        Uart8250Device u = busy(irq);
        assertTrue(u.irqHigh());
        u.hold(); // as at a pause
        String json = StateJson.write(u.saveState());

        Uart8250DeviceTest.Edges irq2 = new Uart8250DeviceTest.Edges();
        Uart8250Device back = restored(json, irq2);
        assertEquals(List.of(true), irq2.calls, "the restored line is raised once");
        assertEquals(json, StateJson.write(back.saveState()), "saving the restored part");

        u.release();
        List<Integer> expected = guestView(u);
        assertEquals(expected, guestView(back));
        assertEquals(0x0103, back.divisor());
        assertEquals(irq.level(), irq2.level());
    }

    @Test
    void aQuietUartRestoresWithTheLineLow() {
        Uart8250DeviceTest.Edges irq = new Uart8250DeviceTest.Edges();
        Uart8250Device u = new Uart8250Device(irq, new ByteArrayOutputStream(), FIFO);
        out(u, LCR, 0x03);
        out(u, SCR, 0x11);
        Uart8250DeviceTest.Edges irq2 = new Uart8250DeviceTest.Edges();
        Uart8250Device back = restored(StateJson.write(u.saveState()), irq2);
        assertTrue(irq2.calls.isEmpty());
        assertEquals(0x11, in(back, SCR));
        assertEquals(NO_INT | 0, in(back, IIR));
        assertEquals(LSR_THRE | LSR_TEMT, in(back, LSR));
    }

    private static SnapshotException refused(String json) {
        Uart8250Device fresh = new Uart8250Device(IrqLine.NONE, new ByteArrayOutputStream(), FIFO);
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () ->
                                fresh.restoreState(
                                        StateJson.read(json, Uart8250State.class, "uart")));
        assertTrue(e.getMessage().startsWith("snapshot: uart: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertEquals(
                StateJson.write(
                        new Uart8250Device(IrqLine.NONE, new ByteArrayOutputStream(), FIFO)
                                .saveState()),
                StateJson.write(fresh.saveState()),
                "a refused record changes nothing");
        return e;
    }

    private static String record(String ier, String fcr, boolean irqHigh, byte[] rx) {
        return StateJson.write(
                new Uart8250State(
                        Integer.decode(ier),
                        3,
                        0,
                        0,
                        0x0c,
                        0,
                        Integer.decode(fcr),
                        0,
                        0,
                        false,
                        irqHigh,
                        rx));
    }

    @Test
    void hostileRecordsAreRefusedNamingTheField() {
        assertTrue(refused(record("0x10", "0", false, new byte[0])).getMessage().contains("ier"));
        assertTrue(refused(record("0", "0x02", false, new byte[0])).getMessage().contains("fcr"));
        assertTrue(
                refused(record("0", "0", false, new byte[FIFO + 1]))
                        .getMessage()
                        .contains("rx holds 17 bytes"));
        assertTrue(
                refused(record("0x1", "0", false, new byte[2])).getMessage().contains("irqHigh"),
                "received data enabled and waiting, yet the line is said to be low");
        String unknown = refused("{\"ier\":0,\"extra\":1}").getMessage();
        assertTrue(unknown.contains("extra"), unknown);
        String missing =
                refused(record("0", "0", false, new byte[0]).replace(",\"rx\":\"\"", ""))
                        .getMessage();
        assertTrue(missing.contains("rx missing"), missing);
    }
}
