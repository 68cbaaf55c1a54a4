package dev.jvmm.core.device;

import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.Snapshottable;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;

/**
 * A 16550A-compatible UART (the "ns16550a" kvmtool's arm64 device tree describes) with reg-shift 0:
 * eight 1-byte registers at offsets 0..7. Transmission is instantaneous, so THR is always empty
 * again by the time the guest looks; received bytes wait in a bounded FIFO because host input is
 * untrusted in volume (CVE-2020-27173: Firecracker's unbounded serial buffer).
 *
 * <p>Interrupt sources follow the 16550 priorities (line status > received data > THR empty > modem
 * status) and drive a level-triggered {@link IrqLine}, called only when the level changes. Received
 * data is signalled as soon as one byte is waiting, without trigger levels or the character-timeout
 * source: a VMM cannot time characters meaningfully and Linux treats both sources alike. The THRE
 * interrupt follows QEMU's model, which Linux's 8250 driver probes at start-up (UART_BUG_THRE): it
 * is raised whenever THR becomes empty and when IER.THRI goes 0 -> 1 while THR is empty, and
 * cleared by an IIR read that reports it or by a THR write (which, transmitting at once, empties
 * THR again). OUT2 does not gate the interrupt: only PC boards wire it so, and the guest need not
 * set it here.
 *
 * <p>Thread-safety: one lock covers the registers, the FIFO, the output buffer and IrqLine calls,
 * so vCPU threads and the stdin thread ({@link #enqueueInput}) may call in concurrently and the IRQ
 * line sees level changes in the order the state changed. IrqLine and the sink must not call back
 * into this device. The sink is written under that lock on a vCPU thread, so it must never block:
 * the VM hands the device a {@link ConsoleOutput}, whose bounded buffer drops (and counts) what a
 * stalled reader does not take.
 */
public final class Uart8250Device implements MmioDevice, Snapshottable<Uart8250State> {
    public static final int REGISTER_SPACE = 8;
    public static final int DEFAULT_FIFO_SIZE = 64;

    /** Console output is buffered up to this many bytes between flush points. */
    static final int OUT_BUFFER = 1024;

    private static final System.Logger LOG = System.getLogger(Uart8250Device.class.getName());

    // IER bits
    private static final int IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08;
    // IIR values
    private static final int IIR_NO_INT = 0x01,
            IIR_MSI = 0x00,
            IIR_THRI = 0x02,
            IIR_RDI = 0x04,
            IIR_RLSI = 0x06,
            IIR_FIFO_ENABLED = 0xc0;
    // FCR bits
    private static final int FCR_ENABLE = 0x01, FCR_CLEAR_RX = 0x02;
    private static final int LCR_DLAB = 0x80;
    // MCR bits
    private static final int MCR_DTR = 0x01,
            MCR_RTS = 0x02,
            MCR_OUT1 = 0x04,
            MCR_OUT2 = 0x08,
            MCR_LOOP = 0x10;
    // LSR bits
    private static final int LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;
    private static final int LSR_ERRORS = 0x1e; // OE, PE, FE, BI
    // MSR bits
    private static final int MSR_DELTAS = 0x0f;
    private static final int MSR_DCTS = 0x01,
            MSR_DDSR = 0x02,
            MSR_TERI = 0x04,
            MSR_DDCD = 0x08,
            MSR_CTS = 0x10,
            MSR_DSR = 0x20,
            MSR_RI = 0x40,
            MSR_DCD = 0x80;

    private final IrqLine irq;
    private final OutputStream sink;
    private final byte[] fifo;
    private int fifoHead, fifoCount;
    private int ier, lcr = 0x03, mcr, scr, dll = 0x0c, dlm, fcr; // 9600 8N1 as after a PC BIOS
    private int lsrErrors;
    private int msrDeltas;
    private boolean thrIpending;
    private boolean irqHigh;

    private final byte[] out = new byte[OUT_BUFFER];
    private int outLen;

    private long rxDropped, txDropped, txBytes, badAccesses;
    private boolean txErrorLogged;
    private boolean held; // paused: host input waits with its sender

    /**
     * @param sink where transmitted bytes go (the console); written and flushed under the device
     *     lock, so it must not block (a {@link ConsoleOutput})
     */
    public Uart8250Device(IrqLine irq, OutputStream sink) {
        this(irq, sink, DEFAULT_FIFO_SIZE);
    }

    public Uart8250Device(IrqLine irq, OutputStream sink, int fifoSize) {
        if (fifoSize < 1) throw new IllegalArgumentException("fifo size " + fifoSize);
        this.irq = irq;
        this.sink = sink;
        this.fifo = new byte[fifoSize];
    }

    @Override
    public synchronized void read(long offset, byte[] data) {
        if (!valid(offset)) return;
        data[0] = (byte) readRegister((int) offset);
        updateIrq();
    }

    @Override
    public synchronized void write(long offset, byte[] data) {
        if (!valid(offset)) return;
        writeRegister((int) offset, data[0] & 0xff);
        updateIrq();
    }

    // Wider accesses reach the register at their first byte (little-endian low byte), like a bus
    // that ignores the upper lanes; offsets past the register file are counted and ignored.
    private boolean valid(long offset) {
        if (offset >= 0 && offset < REGISTER_SPACE) return true;
        badAccesses++;
        return false;
    }

    private int readRegister(int reg) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        return switch (reg) {
            case 0 -> dlab ? dll : popRx();
            case 1 -> dlab ? dlm : ier;
            case 2 -> {
                int iir = pendingInterrupt();
                if (iir == IIR_THRI) thrIpending = false; // reading IIR acknowledges THRE
                flushOutput(); // end of an interrupt-driven burst
                yield iir | ((fcr & FCR_ENABLE) != 0 ? IIR_FIFO_ENABLED : 0);
            }
            case 3 -> lcr;
            case 4 -> mcr;
            case 5 -> {
                int lsr = lsr();
                lsrErrors = 0; // OE, PE, FE, BI: cleared by reading LSR
                yield lsr;
            }
            case 6 -> {
                int msr = modemLines() | msrDeltas;
                msrDeltas = 0;
                yield msr;
            }
            default -> scr;
        };
    }

    private void writeRegister(int reg, int v) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        switch (reg) {
            case 0 -> {
                if (dlab) dll = v;
                else transmit(v);
            }
            case 1 -> {
                if (dlab) {
                    dlm = v;
                } else {
                    int changed = (ier ^ v) & IER_THRI;
                    ier = v & 0x0f;
                    // Linux's start-up test expects THRE to be re-raised by enabling THRI while THR
                    // is empty.
                    if (changed != 0) thrIpending = (ier & IER_THRI) != 0;
                    flushOutput(); // console_write restores IER when it is done
                }
            }
            case 2 -> {
                if (((fcr ^ v) & FCR_ENABLE) != 0 || (v & FCR_CLEAR_RX) != 0) clearRx();
                fcr = v & 0xc9; // enable, DMA mode, trigger level; clear bits self-reset
            }
            case 3 -> lcr = v;
            case 4 -> {
                int before = modemLines();
                mcr = v & 0x1f;
                int after = modemLines();
                int ch = before ^ after;
                if ((ch & MSR_CTS) != 0) msrDeltas |= MSR_DCTS;
                if ((ch & MSR_DSR) != 0) msrDeltas |= MSR_DDSR;
                if ((ch & MSR_DCD) != 0) msrDeltas |= MSR_DDCD;
                if ((before & MSR_RI) != 0 && (after & MSR_RI) == 0) msrDeltas |= MSR_TERI;
            }
            case 7 -> scr = v;
            default -> {} // LSR and MSR are read-only here (factory test only)
        }
    }

    private int pendingInterrupt() {
        return pendingInterrupt(ier, lsrErrors, fifoCount, thrIpending, msrDeltas);
    }

    private static int pendingInterrupt(
            int ier, int lsrErrors, int rxCount, boolean thrIpending, int msrDeltas) {
        if ((ier & IER_RLSI) != 0 && lsrErrors != 0) return IIR_RLSI;
        if ((ier & IER_RDI) != 0 && rxCount > 0) return IIR_RDI;
        if ((ier & IER_THRI) != 0 && thrIpending) return IIR_THRI;
        if ((ier & IER_MSI) != 0 && msrDeltas != 0) return IIR_MSI;
        return IIR_NO_INT;
    }

    private void updateIrq() {
        boolean high = pendingInterrupt() != IIR_NO_INT;
        if (high != irqHigh) {
            irqHigh = high;
            irq.set(high);
        }
    }

    private int lsr() {
        return (fifoCount > 0 ? LSR_DR : 0) | lsrErrors | LSR_THRE | LSR_TEMT;
    }

    // Without loopback the far end is a terminal that is always there and ready: CTS, DSR and DCD.
    private int modemLines() {
        if ((mcr & MCR_LOOP) == 0) return MSR_CTS | MSR_DSR | MSR_DCD;
        int m = 0;
        if ((mcr & MCR_RTS) != 0) m |= MSR_CTS;
        if ((mcr & MCR_DTR) != 0) m |= MSR_DSR;
        if ((mcr & MCR_OUT1) != 0) m |= MSR_RI;
        if ((mcr & MCR_OUT2) != 0) m |= MSR_DCD;
        return m;
    }

    private void transmit(int b) {
        thrIpending = false;
        if ((mcr & MCR_LOOP) != 0) {
            pushRx((byte) b);
        } else {
            out[outLen++] = (byte) b;
            txBytes++;
            if (b == '\n' || outLen == out.length) flushOutput();
        }
        thrIpending = true; // sent at once: THR is empty again
    }

    private int popRx() {
        if (fifoCount == 0) return 0;
        int b = fifo[fifoHead] & 0xff;
        fifoHead = (fifoHead + 1) % fifo.length;
        fifoCount--;
        return b;
    }

    private boolean pushRx(byte b) {
        if (fifoCount == fifo.length) {
            rxDropped++;
            lsrErrors |= LSR_OE; // the 16550 overrun: new byte lost, FIFO kept
            return false;
        }
        fifo[(fifoHead + fifoCount) % fifo.length] = b;
        fifoCount++;
        return true;
    }

    private void clearRx() {
        fifoHead = 0;
        fifoCount = 0;
    }

    /**
     * Host input (stdin) for the guest; callable from any thread. Bytes that do not fit in the FIFO
     * are dropped and counted, and set LSR.OE as a real overrun would. Callers that would rather
     * wait offer only {@link #inputSpace()} bytes. In loopback mode the serial input is
     * disconnected, so the bytes are dropped without an overrun.
     *
     * @return how many bytes were accepted
     */
    public synchronized int enqueueInput(byte[] data) {
        if (held) return 0; // paused: the caller keeps the bytes (none is an overrun)
        int accepted = 0;
        if ((mcr & MCR_LOOP) != 0) {
            rxDropped += data.length;
            return 0;
        }
        for (byte b : data) {
            if (pushRx(b)) accepted++;
        }
        updateIrq();
        return accepted;
    }

    /** Free FIFO slots: how many bytes {@link #enqueueInput} would accept now. */
    public synchronized int inputSpace() {
        return held ? 0 : fifo.length - fifoCount;
    }

    /**
     * Pauses the device's host side: output the guest already wrote goes out now (no partial line
     * left in the buffer across a pause), and host input waits with its sender ({@link
     * #inputSpace()} is 0) instead of changing the FIFO and the interrupt line while the VM is
     * paused. The guest's own register accesses cannot happen then: its vCPUs are parked.
     */
    public synchronized void hold() {
        held = true;
        flushOutput();
    }

    /** Undoes {@link #hold}. */
    public synchronized void release() {
        held = false;
    }

    /**
     * Writes buffered output to the sink and flushes it. The device flushes by itself on newline,
     * on a full buffer, on IIR reads and on IER writes (the ends of Linux's interrupt and console
     * write paths); the VMM calls this on shutdown so a final partial line is not lost. A failing
     * sink drops the bytes (counted) rather than stopping the guest.
     */
    public synchronized void flushOutput() {
        if (outLen == 0) return;
        try {
            sink.write(out, 0, outLen);
            sink.flush();
        } catch (IOException e) {
            txDropped += outLen;
            if (!txErrorLogged) {
                txErrorLogged = true;
                LOG.log(Level.WARNING, "serial output dropped: " + e.getMessage());
            }
        }
        outLen = 0;
    }

    /** Current IRQ level as last signalled to the {@link IrqLine}. */
    public synchronized boolean irqHigh() {
        return irqHigh;
    }

    /** Divisor latch (DLM:DLL) as programmed by the guest. */
    public synchronized int divisor() {
        return dlm << 8 | dll;
    }

    /** Input bytes lost to a full FIFO (overruns) or to loopback mode. */
    public synchronized long rxDropped() {
        return rxDropped;
    }

    /** Output bytes lost because the sink failed. */
    public synchronized long txDropped() {
        return txDropped;
    }

    /** Bytes the guest transmitted outside loopback. */
    public synchronized long txBytes() {
        return txBytes;
    }

    /** Accesses outside the eight registers. */
    public synchronized long badAccesses() {
        return badAccesses;
    }

    @Override
    public String stateKey() {
        return "uart";
    }

    @Override
    public Class<Uart8250State> stateType() {
        return Uart8250State.class;
    }

    @Override
    public synchronized Uart8250State saveState() {
        byte[] rx = new byte[fifoCount];
        for (int i = 0; i < fifoCount; i++) rx[i] = fifo[(fifoHead + i) % fifo.length];
        return new Uart8250State(
                ier, lcr, mcr, scr, dll, dlm, fcr, lsrErrors, msrDeltas, thrIpending, irqHigh, rx);
    }

    /**
     * Puts the registers and the FIFO back and, when the saved line was high, raises it again: the
     * guest's interrupt handler is owed that interrupt, and the line's level is this device's to
     * drive. A record no guest could have produced (bits the registers never hold, more bytes than
     * the FIFO, a level that contradicts the registers) is refused before anything changes.
     */
    @Override
    public synchronized void restoreState(Uart8250State s) {
        bits("ier", s.ier(), 0x0f);
        bits("lcr", s.lcr(), 0xff);
        bits("mcr", s.mcr(), 0x1f);
        bits("scr", s.scr(), 0xff);
        bits("dll", s.dll(), 0xff);
        bits("dlm", s.dlm(), 0xff);
        bits("fcr", s.fcr(), 0xc9);
        bits("lsrErrors", s.lsrErrors(), LSR_ERRORS);
        bits("msrDeltas", s.msrDeltas(), MSR_DELTAS);
        if (s.rx() == null) throw SnapshotException.invalid(stateKey(), "rx missing");
        if (s.rx().length > fifo.length) {
            throw SnapshotException.invalid(
                    stateKey(), "rx holds " + s.rx().length + " bytes, the FIFO " + fifo.length);
        }
        int iir =
                pendingInterrupt(
                        s.ier(), s.lsrErrors(), s.rx().length, s.thrEmptyPending(), s.msrDeltas());
        if ((iir != IIR_NO_INT) != s.irqHigh()) {
            throw SnapshotException.invalid(
                    stateKey(),
                    "irqHigh "
                            + s.irqHigh()
                            + " contradicts the registers (IIR 0x"
                            + Integer.toHexString(iir)
                            + ")");
        }
        ier = s.ier();
        lcr = s.lcr();
        mcr = s.mcr();
        scr = s.scr();
        dll = s.dll();
        dlm = s.dlm();
        fcr = s.fcr();
        lsrErrors = s.lsrErrors();
        msrDeltas = s.msrDeltas();
        thrIpending = s.thrEmptyPending();
        fifoHead = 0;
        fifoCount = s.rx().length;
        System.arraycopy(s.rx(), 0, fifo, 0, fifoCount);
        updateIrq(); // a fresh device's line is low: this raises it when the record says high
    }

    private void bits(String field, int value, int allowed) {
        if ((value & ~allowed) != 0) {
            throw SnapshotException.invalid(
                    stateKey(),
                    field
                            + " 0x"
                            + Integer.toHexString(value)
                            + " has bits outside 0x"
                            + Integer.toHexString(allowed));
        }
    }
}
