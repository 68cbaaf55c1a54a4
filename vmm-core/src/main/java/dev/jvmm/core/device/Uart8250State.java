package dev.jvmm.core.device;

/**
 * What a snapshot keeps of a {@link Uart8250Device}: every register the guest can read back or that
 * decides what it reads (IIR and LSR follow from these), the receive FIFO's unread bytes in order,
 * and the interrupt line's level. Host-side plumbing (the console sink, the output buffer, which is
 * flushed at pause, and the counters) is not guest state.
 *
 * @param ier interrupt enable register (bits 0..3)
 * @param lcr line control (DLAB included)
 * @param mcr modem control (bits 0..4, loopback included)
 * @param scr scratch register
 * @param dll divisor latch, low byte
 * @param dlm divisor latch, high byte
 * @param fcr FIFO control as kept (enable, DMA mode, trigger level)
 * @param lsrErrors LSR error bits (OE, PE, FE, BI) not yet cleared by an LSR read
 * @param msrDeltas MSR delta bits (DCTS, DDSR, TERI, DDCD) not yet cleared by an MSR read
 * @param thrEmptyPending a THR-empty interrupt not yet acknowledged by an IIR read
 * @param irqHigh the interrupt line's level as last signalled
 * @param rx received bytes the guest has not read, oldest first
 */
@SuppressWarnings("ArrayRecordComponent") // plain snapshot data, never compared with equals
public record Uart8250State(
        int ier,
        int lcr,
        int mcr,
        int scr,
        int dll,
        int dlm,
        int fcr,
        int lsrErrors,
        int msrDeltas,
        boolean thrEmptyPending,
        boolean irqHigh,
        byte[] rx) {}
