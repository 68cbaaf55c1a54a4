package dev.jvmm.core.device;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Jazzer target for the 16550A: fuzzer-chosen reads and writes of any size at any offset (DLAB,
 * FCR, IER, MCR loopback, scratch...) interleaved with console input and flushes, checked against a
 * register model written from the data sheet. Invariants: nothing escapes; every register reads
 * back what the model says (divisor latch, IER, LCR, MCR, SCR, RBR in FIFO order, LSR.DR/OE, MSR
 * and its deltas, IIR priority); the IRQ line moves only in edges and is high exactly when IIR
 * reports an interrupt; the FIFO never holds more than its size; output reaches the sink in order,
 * at most one buffer behind, and completely on a flush. A plain {@code mvn verify} replays {@code
 * Uart8250FuzzTestInputs/registers/}; {@code JAZZER_FUZZ=1} fuzzes.
 */
class Uart8250FuzzTest {
    private static final int[] SIZES = {1, 2, 4, 8};
    private static final int[] INTERESTING = {
        0x00, 0x01, 0x02, 0x03, 0x06, 0x07, 0x0f, 0x10, 0x1f, 0x80, 0x83, 0xc1, 0xc7, 0xff
    };

    /** The 16550 as the data sheet (and the device's documented THRE choice) describes it. */
    static final class Model {
        final int capacity;
        final ArrayDeque<Byte> fifo = new ArrayDeque<>();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        int ier, lcr = 0x03, mcr, scr, dll = 0x0c, dlm, fcr;
        boolean overrun, thri;
        int msrDeltas;

        Model(int capacity) {
            this.capacity = capacity;
        }

        boolean dlab() {
            return (lcr & 0x80) != 0;
        }

        boolean loop() {
            return (mcr & 0x10) != 0;
        }

        int lines() {
            if (!loop()) return 0xb0; // CTS DSR DCD of an attached terminal
            return ((mcr & 2) != 0 ? 0x10 : 0)
                    | ((mcr & 1) != 0 ? 0x20 : 0)
                    | ((mcr & 4) != 0 ? 0x40 : 0)
                    | ((mcr & 8) != 0 ? 0x80 : 0);
        }

        int iir() {
            if ((ier & 4) != 0 && overrun) return 0x06;
            if ((ier & 1) != 0 && !fifo.isEmpty()) return 0x04;
            if ((ier & 2) != 0 && thri) return 0x02;
            if ((ier & 8) != 0 && msrDeltas != 0) return 0x00;
            return 0x01;
        }

        boolean push(byte b) {
            if (fifo.size() == capacity) {
                overrun = true;
                return false;
            }
            fifo.add(b);
            return true;
        }

        int read(int reg) {
            return switch (reg) {
                case 0 -> dlab() ? dll : fifo.isEmpty() ? 0 : fifo.poll() & 0xff;
                case 1 -> dlab() ? dlm : ier;
                case 2 -> {
                    int v = iir();
                    if (v == 0x02) thri = false;
                    yield v | ((fcr & 1) != 0 ? 0xc0 : 0);
                }
                case 3 -> lcr;
                case 4 -> mcr;
                case 5 -> {
                    int v = (fifo.isEmpty() ? 0 : 1) | (overrun ? 2 : 0) | 0x60;
                    overrun = false;
                    yield v;
                }
                case 6 -> {
                    int v = lines() | msrDeltas;
                    msrDeltas = 0;
                    yield v;
                }
                default -> scr;
            };
        }

        void write(int reg, int v) {
            switch (reg) {
                case 0 -> {
                    if (dlab()) {
                        dll = v;
                    } else {
                        if (loop()) push((byte) v);
                        else out.write(v);
                        thri = true;
                    }
                }
                case 1 -> {
                    if (dlab()) {
                        dlm = v;
                    } else {
                        if (((ier ^ v) & 2) != 0) thri = (v & 2) != 0;
                        ier = v & 0x0f;
                    }
                }
                case 2 -> {
                    if (((fcr ^ v) & 1) != 0 || (v & 2) != 0) fifo.clear();
                    fcr = v & 0xc9;
                }
                case 3 -> lcr = v;
                case 4 -> {
                    int before = lines();
                    mcr = v & 0x1f;
                    int ch = before ^ lines();
                    if ((ch & 0x10) != 0) msrDeltas |= 0x01;
                    if ((ch & 0x20) != 0) msrDeltas |= 0x02;
                    if ((ch & 0x80) != 0) msrDeltas |= 0x08;
                    if ((before & 0x40) != 0 && (lines() & 0x40) == 0) msrDeltas |= 0x04;
                }
                case 7 -> scr = v;
                default -> {}
            }
        }
    }

    @FuzzTest(maxDuration = "30s")
    void registers(FuzzedDataProvider data) {
        int capacity = data.pickValue(new int[] {1, 2, 16, Uart8250Device.DEFAULT_FIFO_SIZE});
        Uart8250DeviceTest.Edges irq = new Uart8250DeviceTest.Edges();
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        Uart8250Device uart = new Uart8250Device(irq, sink, capacity);
        Model m = new Model(capacity);
        for (int ops = 0; ops < 400 && data.remainingBytes() > 0; ops++) {
            switch (data.consumeInt(0, 5)) {
                case 0, 1 -> {
                    long off = offset(data);
                    byte[] d = new byte[data.pickValue(SIZES)];
                    uart.read(off, d);
                    int expected = off >= 0 && off < 8 ? m.read((int) off) : 0;
                    assertEquals(expected, d[0] & 0xff, "read of offset " + off);
                    for (int i = 1; i < d.length; i++)
                        assertEquals(0, d[i], "upper lanes of a wide read");
                }
                case 2, 3 -> {
                    long off = offset(data);
                    byte[] d = new byte[data.pickValue(SIZES)];
                    d[0] =
                            (byte)
                                    (data.consumeBoolean()
                                            ? data.pickValue(INTERESTING)
                                            : data.consumeInt(0, 255));
                    for (int i = 1; i < d.length; i++) d[i] = data.consumeByte();
                    uart.write(off, d);
                    if (off >= 0 && off < 8) m.write((int) off, d[0] & 0xff);
                }
                case 4 -> {
                    byte[] in = data.consumeBytes(data.consumeInt(0, 2 * capacity + 2));
                    int accepted = uart.enqueueInput(in);
                    int expected = 0;
                    if (!m.loop()) for (byte b : in) if (m.push(b)) expected++;
                    assertEquals(expected, accepted, "bytes accepted");
                }
                default -> {
                    uart.flushOutput();
                    assertArrayEquals(
                            m.out.toByteArray(), sink.toByteArray(), "output after a flush");
                }
            }
            boolean high = m.iir() != 0x01;
            assertEquals(
                    high,
                    uart.irqHigh(),
                    "IRQ level against IIR 0x" + Integer.toHexString(m.iir()));
            assertEquals(high, irq.level(), "level last signalled");
            assertEquals(capacity - m.fifo.size(), uart.inputSpace(), "FIFO fill");
            assertTrue(uart.inputSpace() >= 0 && uart.inputSpace() <= capacity);
            byte[] sent = sink.toByteArray(), all = m.out.toByteArray();
            assertTrue(
                    sent.length <= all.length
                            && Arrays.equals(sent, 0, sent.length, all, 0, sent.length),
                    "the sink holds a prefix of what the guest sent, in order");
            assertTrue(
                    all.length - sent.length <= Uart8250Device.OUT_BUFFER, "output buffer bounded");
        }
    }

    private static long offset(FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 7)) {
            case 0 -> data.consumeLong();
            case 1 -> data.consumeInt(8, 0x1000);
            default -> data.consumeInt(0, 7);
        };
    }
}
