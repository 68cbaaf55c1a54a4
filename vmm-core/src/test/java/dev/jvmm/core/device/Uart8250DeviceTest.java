package dev.jvmm.core.device;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class Uart8250DeviceTest {
    // Register offsets and bits, spelled out from the 16550 data sheet independently of the device.
    static final int RBR = 0,
            THR = 0,
            DLL = 0,
            IER = 1,
            DLM = 1,
            IIR = 2,
            FCR = 2,
            LCR = 3,
            MCR = 4,
            LSR = 5,
            MSR = 6,
            SCR = 7;
    static final int IER_RDI = 1, IER_THRI = 2, IER_RLSI = 4, IER_MSI = 8;
    static final int NO_INT = 0x01, THRI = 0x02, RDI = 0x04, RLSI = 0x06, MSI = 0x00;
    static final int LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;

    /** IrqLine fake recording every call: each one must be an edge. */
    static final class Edges implements IrqLine {
        final List<Boolean> calls = new ArrayList<>();

        @Override
        public synchronized void set(boolean high) {
            if (!calls.isEmpty() && calls.get(calls.size() - 1) == high)
                throw new AssertionError("repeated level " + high);
            if (calls.isEmpty() && !high)
                throw new AssertionError("first call lowers an idle line");
            calls.add(high);
        }

        synchronized boolean level() {
            return !calls.isEmpty() && calls.get(calls.size() - 1);
        }
    }

    Edges irq;
    ByteArrayOutputStream sink;
    Uart8250Device uart;

    @BeforeEach
    void setUp() {
        irq = new Edges();
        sink = new ByteArrayOutputStream();
        uart = new Uart8250Device(irq, sink);
    }

    int in(int reg) {
        byte[] d = new byte[1];
        uart.read(reg, d);
        return d[0] & 0xff;
    }

    void out(int reg, int v) {
        uart.write(reg, new byte[] {(byte) v});
    }

    void type(String s) {
        uart.enqueueInput(s.getBytes(StandardCharsets.US_ASCII));
    }

    String output() {
        return sink.toString(StandardCharsets.US_ASCII);
    }

    @Test
    void resetState() {
        assertEquals(LSR_THRE | LSR_TEMT, in(LSR));
        assertEquals(NO_INT, in(IIR));
        assertEquals(0, in(IER));
        assertEquals(0xb0, in(MSR), "CTS, DSR, DCD: a terminal is attached");
        assertTrue(irq.calls.isEmpty());
    }

    @Test
    void transmitGoesToSinkFlushedAtNewline() {
        for (char c : "hello".toCharArray()) out(THR, c);
        assertEquals("", output(), "partial line stays buffered");
        out(THR, '\n');
        assertEquals("hello\n", output());
        out(THR, '$');
        out(THR, ' ');
        in(IIR); // end of an interrupt-driven burst
        assertEquals("hello\n$ ", output());
        out(THR, 'x');
        out(IER, 0); // end of console_write
        assertEquals("hello\n$ x", output());
        out(THR, 'y');
        uart.flushOutput();
        assertEquals("hello\n$ xy", output());
        assertEquals(10, uart.txBytes());
        assertEquals(LSR_THRE | LSR_TEMT, in(LSR), "transmission is instantaneous");
    }

    @Test
    void fullOutputBufferFlushes() {
        for (int i = 0; i < Uart8250Device.OUT_BUFFER; i++) out(THR, 'a');
        assertEquals(Uart8250Device.OUT_BUFFER, sink.size());
    }

    @Test
    void failingSinkDropsAndCounts() {
        Uart8250Device u =
                new Uart8250Device(
                        irq,
                        new OutputStream() {
                            @Override
                            public void write(int b) throws IOException {
                                throw new IOException("EPIPE");
                            }
                        });
        for (char c : "abc\n".toCharArray()) u.write(THR, new byte[] {(byte) c});
        assertEquals(4, u.txDropped());
        u.flushOutput();
        assertEquals(4, u.txDropped());
    }

    @Test
    void receiveWithInterrupt() {
        out(IER, IER_RDI);
        assertTrue(irq.calls.isEmpty());
        type("ok");
        assertEquals(List.of(true), irq.calls);
        assertEquals(RDI, in(IIR));
        assertEquals(LSR_DR | LSR_THRE | LSR_TEMT, in(LSR));
        assertEquals('o', in(RBR));
        assertTrue(irq.level());
        assertEquals('k', in(RBR));
        assertEquals(List.of(true, false), irq.calls);
        assertEquals(LSR_THRE | LSR_TEMT, in(LSR));
        assertEquals(NO_INT, in(IIR));
        assertEquals(0, in(RBR), "empty FIFO reads 0");
    }

    @Test
    void receiveWithoutInterruptEnabledIsPolled() {
        type("z");
        assertTrue(irq.calls.isEmpty());
        assertEquals(LSR_DR, in(LSR) & LSR_DR);
        assertEquals('z', in(RBR));
    }

    @Test
    void fifoOverflowDropsCountsAndSetsOverrun() {
        out(IER, IER_RDI | IER_RLSI);
        byte[] flood = new byte[70];
        for (int i = 0; i < flood.length; i++) flood[i] = (byte) i;
        assertEquals(64, uart.enqueueInput(flood));
        assertEquals(6, uart.rxDropped());
        assertEquals(0, uart.inputSpace());
        assertEquals(RLSI, in(IIR), "line status outranks received data");
        assertEquals(LSR_OE | LSR_DR, in(LSR) & (LSR_OE | LSR_DR));
        assertEquals(0, in(LSR) & LSR_OE, "reading LSR clears OE");
        assertEquals(RDI, in(IIR));
        for (int i = 0; i < 64; i++) assertEquals(i, in(RBR), "oldest bytes kept");
        assertEquals(64, uart.inputSpace());
        assertFalse(irq.level());
    }

    @Test
    void divisorLatchRoundTrip() {
        out(IER, IER_RDI);
        out(LCR, 0x83); // DLAB, 8N1
        out(DLL, 0x01);
        out(DLM, 0x02);
        assertEquals(0x01, in(DLL));
        assertEquals(0x02, in(DLM));
        assertEquals(0x0201, uart.divisor());
        assertEquals(0x83, in(LCR));
        assertEquals("", output(), "DLL write is not a transmit");
        out(LCR, 0x03);
        assertEquals(IER_RDI, in(IER), "DLM write did not touch IER");
        out(THR, 'A');
        out(THR, '\n');
        assertEquals("A\n", output());
        assertEquals(0x0201, uart.divisor());
    }

    @Test
    void dlabHidesRbr() {
        type("q");
        out(LCR, 0x80);
        in(DLL);
        out(LCR, 0);
        assertEquals('q', in(RBR), "reading DLL did not consume input");
    }

    @Test
    void iirPrioritiesAndFifoBits() {
        out(MCR, 0x10); // loopback, to make modem deltas
        out(MCR, 0x12); // RTS -> CTS changes: DCTS
        out(THR, 'x'); // loopback data: DR
        for (int i = 0; i < 64; i++) out(THR, 'y'); // overrun: OE
        out(IER, IER_RDI | IER_THRI | IER_RLSI | IER_MSI);
        assertEquals(RLSI, in(IIR));
        in(LSR);
        assertEquals(RDI, in(IIR));
        while ((in(LSR) & LSR_DR) != 0) in(RBR);
        assertEquals(THRI, in(IIR));
        assertEquals(MSI, in(IIR), "THRE acknowledged by the IIR read that reported it");
        in(MSR);
        assertEquals(NO_INT, in(IIR));
        assertFalse(irq.level());
        out(FCR, 0x01);
        assertEquals(0xc0 | NO_INT, in(IIR), "FIFO-enabled bits identify a 16550A");
    }

    @Test
    void threInterruptAsLinuxProbesIt() {
        // serial8250_do_startup: IER=THRI, read IIR, IER=0, IER=THRI, read IIR; NO_INT the second
        // time
        // would mark the port UART_BUG_THRE.
        out(IER, IER_THRI);
        assertEquals(List.of(true), irq.calls);
        assertEquals(THRI, in(IIR));
        assertEquals(List.of(true, false), irq.calls);
        out(IER, 0);
        out(IER, IER_THRI);
        assertEquals(THRI, in(IIR));
        out(IER, 0);
        assertEquals(List.of(true, false, true, false), irq.calls);
    }

    @Test
    void threAcknowledgedThenReassertedByTransmit() {
        out(IER, IER_THRI);
        assertEquals(THRI, in(IIR));
        assertEquals(NO_INT, in(IIR));
        out(IER, IER_THRI); // no 0->1 edge: stays acknowledged
        assertEquals(NO_INT, in(IIR));
        out(THR, 'a'); // THR empties at once: THRE again
        assertTrue(irq.level());
        assertEquals(THRI, in(IIR));
        assertFalse(irq.level());
        out(IER, 0);
        out(THR, 'b');
        assertFalse(irq.level(), "masked");
        assertEquals(List.of(true, false, true, false), irq.calls);
    }

    @Test
    void rxDataOutranksThre() {
        out(IER, IER_THRI | IER_RDI);
        type("k");
        assertEquals(RDI, in(IIR));
        assertTrue(irq.level(), "THRE still pending after an IIR read that reported RDI");
        in(RBR);
        assertEquals(THRI, in(IIR));
        assertFalse(irq.level());
    }

    @Test
    void loopback() {
        out(MCR, 0x10);
        out(THR, 'L');
        out(THR, '\n');
        uart.flushOutput();
        assertEquals("", output(), "loopback output does not reach the line");
        assertEquals('L', in(RBR));
        assertEquals('\n', in(RBR));
        assertEquals(0, uart.txBytes());
        assertEquals(
                0, uart.enqueueInput(new byte[] {1, 2}), "serial input disconnected in loopback");
        assertEquals(0, in(LSR) & LSR_DR);

        in(MSR);
        out(MCR, 0x1f); // DTR RTS OUT1 OUT2 -> DSR CTS RI DCD
        assertEquals(0xf0 | 0x0b, in(MSR), "lines plus DCTS, DDSR, DDCD deltas");
        assertEquals(0xf0, in(MSR), "deltas clear on read");
        out(MCR, 0x10);
        assertEquals(0x0f, in(MSR), "RI falling edge sets TERI");
        out(MCR, 0x00);
        assertEquals(0xb0, in(MSR) & 0xf0);
    }

    @Test
    void modemStatusInterrupt() {
        out(IER, IER_MSI);
        out(MCR, 0x10); // leaving the attached terminal: lines drop
        assertTrue(irq.level());
        assertEquals(MSI, in(IIR));
        in(MSR);
        assertFalse(irq.level());
        assertEquals(List.of(true, false), irq.calls);
    }

    @Test
    void scratchRegister() {
        out(SCR, 0x5a);
        assertEquals(0x5a, in(SCR));
        out(SCR, 0xa5);
        assertEquals(0xa5, in(SCR));
    }

    @Test
    void fcrClearsReceiveFifo() {
        type("abc");
        out(FCR, 0x01); // enabling FIFOs resets them
        assertEquals(0, in(LSR) & LSR_DR);
        type("de");
        out(FCR, 0x03); // clear RX
        assertEquals(0, in(LSR) & LSR_DR);
        assertEquals(0xc0, in(IIR) & 0xc0);
    }

    @Test
    void offsetsOutsideRegistersIgnoredAndWideAccessUsesLowByte() {
        byte[] d = new byte[4];
        uart.read(8, d);
        uart.write(100, new byte[] {1});
        assertEquals(2, uart.badAccesses());
        uart.write(SCR, new byte[] {0x11, 0x22, 0x33, 0x44});
        uart.read(SCR, d);
        assertEquals(0x11, d[0]);
    }

    @Test
    void irqCallsOnlyOnEdgesUnderManyOperations() {
        // Edges throws on a repeated level; drive every source on and off many times.
        out(IER, IER_RDI | IER_THRI | IER_RLSI | IER_MSI);
        for (int round = 0; round < 200; round++) {
            type("x".repeat(round % 70));
            in(IIR);
            in(LSR);
            out(THR, 'a');
            out(MCR, round % 2 == 0 ? 0x10 : 0x00);
            in(MSR);
            while ((in(LSR) & LSR_DR) != 0) in(RBR);
            in(IIR);
            in(IIR);
        }
        assertFalse(irq.level());
        assertEquals(irq.level(), uart.irqHigh());
    }

    @Test
    void stdinThreadAndVcpuThreadConcurrently() throws Exception {
        out(IER, IER_RDI);
        int total = 20_000;
        Thread stdin =
                new Thread(
                        () -> {
                            int sent = 0;
                            while (sent < total) {
                                int n =
                                        Math.min(
                                                uart.inputSpace(),
                                                Math.min(17, total - sent)); // back-pressure: never
                                // overrun
                                byte[] b = new byte[n];
                                for (int i = 0; i < n; i++) b[i] = (byte) (sent + i);
                                sent += uart.enqueueInput(b);
                                if (n == 0) Thread.onSpinWait();
                            }
                        });
        stdin.start();
        int got = 0;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (got < total && System.nanoTime() < deadline) {
            if ((in(LSR) & LSR_DR) != 0) {
                assertEquals((byte) got, (byte) in(RBR), "in order, nothing lost");
                got++;
            }
        }
        stdin.join();
        assertEquals(total, got);
        assertEquals(0, uart.rxDropped());
        assertFalse(irq.level());
    }

    @Test
    void onTheBus() {
        MmioBus bus = new MmioBus();
        bus.register(0x0100_0000L, Uart8250Device.REGISTER_SPACE, uart, "ttyS0");
        for (char c : "bus\n".toCharArray())
            bus.dispatch(0x0100_0000L, new byte[] {(byte) c}, true);
        assertEquals("bus\n", output());
        byte[] lsr = new byte[1];
        bus.dispatch(0x0100_0005L, lsr, false);
        assertEquals(LSR_THRE | LSR_TEMT, lsr[0] & 0xff);
        bus.dispatch(0x0100_0008L, new byte[1], false);
        assertEquals(1, bus.holeReads());
    }

    /**
     * Issue 11: with stdout a pipe nobody reads, the guest's console writes (a vCPU thread, under
     * the device lock) and the stop path's flush must still return; what cannot be written is
     * dropped.
     */
    @Test
    void aStalledConsoleReaderNeverBlocksTheGuestOrTheFlush() {
        StalledSink stalled = new StalledSink();
        OutputStream console = console(stalled);
        Uart8250Device u = new Uart8250Device(irq, console);
        int lines = 40_000; // 40000 * 64 bytes: over twice the buffer
        try {
            assertTimeoutPreemptively(
                    Duration.ofSeconds(20),
                    () -> {
                        for (int i = 0; i < lines; i++) {
                            for (int c = 0; c < 63; c++) u.write(THR, new byte[] {'x'});
                            u.write(THR, new byte[] {'\n'});
                        }
                        u.flushOutput();
                    });
            assertEquals(lines * 64L, u.txBytes());
            ConsoleOutput co = (ConsoleOutput) console;
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> co.close());
            assertTrue(
                    co.dropped() >= lines * 64L - ConsoleOutput.DEFAULT_CAPACITY - 64 * 1024,
                    "dropped " + co.dropped());
        } finally {
            stalled.release();
        }
    }

    /**
     * The console as the VM builder hands it to a device: a {@link ConsoleOutput} in front of the
     * sink.
     */
    static OutputStream console(OutputStream sink) {
        return ConsoleOutput.start(sink);
    }
}
