package dev.jvmm.core.device;

import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.Snapshottable;
import java.time.Instant;
import java.time.InstantSource;

/**
 * An ARM PrimeCell PL031 real-time clock (the one QEMU's virt machine gives its guests), so a guest
 * reads the real date at boot ({@code CONFIG_RTC_HCTOSYS}) and has {@code /dev/rtc0}. The counter
 * is the host's wall clock in whole seconds plus an offset the guest sets through RTCLR: the guest
 * never changes the host's clock, and the offset (not an absolute time) is what a snapshot keeps,
 * so a restored guest's clock goes on tracking real time.
 *
 * <p>Registers are 32 bits wide and only aligned 32-bit accesses reach them; any other size or
 * alignment, reserved offsets and the write-only RTCICR read as zero, and writes to read-only
 * registers are ignored (all counted). RTCCR's start bit reads back once set and cannot be cleared,
 * as on the hardware; the counter runs regardless (the machine's battery-backed clock was started
 * long ago), since a guest that never set the bit must still read the date.
 *
 * <p>The match interrupt fires once when the counter reaches RTCMR (at once if it already equals
 * it), not again until RTCMR or RTCLR is written: whatever the guest writes, the host raises at
 * most one interrupt per register write, so a guest cannot make it storm. The interrupt output is
 * {@code RTCRIS & RTCIMSC} on a level-triggered {@link IrqLine}, called only on a change.
 *
 * <p>Thread-safety: one lock covers the registers, the alarm and IrqLine calls (vCPU threads and
 * the alarm's thread). {@link #hold} keeps an alarm that comes due while the machine is paused from
 * changing what the guest sees until {@link #release}.
 */
public final class Pl031Rtc implements MmioDevice, Snapshottable<Pl031Rtc.State>, AutoCloseable {
    /** One 4 KiB PrimeCell window, as the AMBA bus expects ({@code reg} size). */
    public static final int REGISTER_SPACE = 0x1000;

    static final int DR = 0x00, MR = 0x04, LR = 0x08, CR = 0x0c;
    static final int IMSC = 0x10, RIS = 0x14, MIS = 0x18, ICR = 0x1c;

    /** PL031 r1p0 (part 0x031, designer ARM 0x41), what Linux's AMBA bus matches rtc-pl031 by. */
    static final int PERIPHERAL_ID = 0x0004_1031;

    /** The PrimeCell component ID every AMBA device carries. */
    static final int CELL_ID = 0xB105_F00D;

    static final int ID_BASE = 0xfe0;
    private static final long U32 = 0xffff_ffffL;

    /**
     * What a snapshot keeps of the clock.
     *
     * @param offsetSeconds guest seconds minus the host's wall-clock seconds
     * @param match RTCMR, 0 to 2^32 - 1
     * @param load RTCLR (the last value the guest loaded), 0 to 2^32 - 1
     * @param interruptMask RTCIMSC's bit
     * @param rawInterrupt RTCRIS's bit
     * @param started RTCCR's start bit
     */
    public record State(
            long offsetSeconds,
            long match,
            long load,
            boolean interruptMask,
            boolean rawInterrupt,
            boolean started) {}

    /** Runs a task at a wall-clock instant; how the match interrupt is timed. */
    @FunctionalInterface
    public interface AlarmClock {
        /** Schedules {@code task} for {@code when}; the result cancels it if it has not run. */
        Runnable at(Instant when, Runnable task);
    }

    private final IrqLine irq;
    private final InstantSource clock;
    private final AlarmClock alarms;
    private final AutoCloseable owned;

    private long offsetSeconds, match, load;
    private boolean mask, raw, started, irqHigh;
    private boolean held, firedWhileHeld;
    private Runnable cancelAlarm = () -> {};
    private long alarmGeneration;
    private long badAccesses;

    /**
     * @param clock the host's wall clock ({@link InstantSource#system()} in real runs)
     * @param alarms schedules the match interrupt
     */
    public Pl031Rtc(IrqLine irq, InstantSource clock, AlarmClock alarms) {
        this(irq, clock, alarms, () -> {});
    }

    private Pl031Rtc(IrqLine irq, InstantSource clock, AlarmClock alarms, AutoCloseable owned) {
        this.irq = irq;
        this.clock = clock;
        this.alarms = alarms;
        this.owned = owned;
    }

    /**
     * The clock of real runs: the host's wall clock, with its own alarm thread that {@link #close}
     * stops.
     */
    public static Pl031Rtc onHostClock(IrqLine irq) {
        InstantSource host = InstantSource.system();
        AlarmThread alarms = new AlarmThread(host, "jvmm-rtc-alarm");
        return new Pl031Rtc(irq, host, alarms, alarms);
    }

    @Override
    public synchronized void read(long offset, byte[] data) {
        if (!register(offset, data.length)) return;
        int v = readRegister((int) offset);
        for (int i = 0; i < 4; i++) data[i] = (byte) (v >>> (8 * i));
    }

    @Override
    public synchronized void write(long offset, byte[] data) {
        if (!register(offset, data.length)) return;
        long v = 0;
        for (int i = 0; i < 4; i++) v |= (data[i] & 0xffL) << (8 * i);
        writeRegister((int) offset, v);
    }

    private boolean register(long offset, int length) {
        if (length == 4 && offset >= 0 && offset <= REGISTER_SPACE - 4 && offset % 4 == 0)
            return true;
        badAccesses++;
        return false;
    }

    private int readRegister(int offset) {
        if (offset >= ID_BASE) {
            int index = (offset - ID_BASE) / 4; // 0-3 peripheral ID bytes, 4-7 cell ID bytes
            int id = index < 4 ? PERIPHERAL_ID : CELL_ID;
            return (id >>> (8 * (index % 4))) & 0xff;
        }
        return switch (offset) {
            case DR -> (int) count();
            case MR -> (int) match;
            case LR -> (int) load;
            case CR -> started ? 1 : 0;
            case IMSC -> mask ? 1 : 0;
            case RIS -> raw ? 1 : 0;
            case MIS -> raw && mask ? 1 : 0;
            default -> { // RTCICR is write-only; the rest is reserved
                badAccesses++;
                yield 0;
            }
        };
    }

    private void writeRegister(int offset, long v) {
        switch (offset) {
            case MR -> {
                match = v;
                arm();
            }
            case LR -> {
                load = v;
                offsetSeconds = v - hostSeconds();
                arm();
            }
            case CR -> started |= (v & 1) != 0;
            case IMSC -> {
                mask = (v & 1) != 0;
                updateIrq();
            }
            case ICR -> {
                if ((v & 1) != 0) raw = false;
                updateIrq();
            }
            default -> badAccesses++; // RTCDR, RTCRIS, RTCMIS and the IDs are read-only
        }
    }

    private long hostSeconds() {
        return clock.instant().getEpochSecond();
    }

    /** RTCDR: the guest's seconds, 32 bits wide. */
    private long count() {
        return (hostSeconds() + offsetSeconds) & U32;
    }

    /**
     * (Re)schedules the match for the next time the counter equals RTCMR, looking forward only: a
     * match in the past comes round again after 2^32 seconds, as on the hardware.
     */
    private void arm() {
        cancelAlarm.run();
        long generation = ++alarmGeneration;
        long now = hostSeconds();
        long ahead = (match - ((now + offsetSeconds) & U32)) & U32;
        if (ahead == 0) {
            fire(generation);
            cancelAlarm = () -> {};
            return;
        }
        cancelAlarm = alarms.at(Instant.ofEpochSecond(now + ahead), () -> fired(generation));
    }

    private synchronized void fired(long generation) {
        fire(generation);
    }

    private void fire(long generation) {
        if (generation != alarmGeneration) return; // rescheduled or reset since
        if (held) {
            firedWhileHeld = true;
            return;
        }
        raw = true;
        updateIrq();
    }

    private void updateIrq() {
        boolean level = raw && mask;
        if (level != irqHigh) {
            irqHigh = level;
            irq.set(level);
        }
    }

    /**
     * Machine reset (a guest reboot): the interrupt logic starts over, the clock keeps its time.
     */
    public synchronized void reset() {
        cancelAlarm.run();
        cancelAlarm = () -> {};
        alarmGeneration++;
        match = 0;
        mask = false;
        raw = false;
        firedWhileHeld = false;
        updateIrq();
    }

    /** Pause: an alarm that comes due now waits for {@link #release}. */
    public synchronized void hold() {
        held = true;
    }

    public synchronized void release() {
        held = false;
        if (firedWhileHeld) {
            firedWhileHeld = false;
            raw = true;
            updateIrq();
        }
    }

    /**
     * Stops the alarm (and its thread, if the device owns one); the device is not used after this.
     */
    @Override
    public void close() {
        synchronized (this) {
            cancelAlarm.run();
            cancelAlarm = () -> {};
            alarmGeneration++;
        }
        try {
            owned.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the RTC's alarm thread", e);
        }
    }

    /** Accesses that reached no register: wrong size, misaligned, reserved, read-only. */
    public synchronized long badAccesses() {
        return badAccesses;
    }

    @Override
    public String stateKey() {
        return "rtc";
    }

    @Override
    public Class<State> stateType() {
        return State.class;
    }

    @Override
    public synchronized State saveState() {
        // an alarm that came due during the pause is what the guest will see on resume
        return new State(offsetSeconds, match, load, mask, raw || firedWhileHeld, started);
    }

    @Override
    public synchronized void restoreState(State s) {
        if (s.match() < 0 || s.match() > U32)
            throw SnapshotException.invalid("rtc", "match " + s.match() + " is not a 32-bit value");
        if (s.load() < 0 || s.load() > U32)
            throw SnapshotException.invalid("rtc", "load " + s.load() + " is not a 32-bit value");
        offsetSeconds = s.offsetSeconds();
        match = s.match();
        load = s.load();
        mask = s.interruptMask();
        raw = s.rawInterrupt();
        started = s.started();
        firedWhileHeld = false;
        updateIrq();
        // the match moment still ahead is armed again; one that passed while the snapshot lay on
        // disk is not made up (the counter moved past it, as a powered-off board's would)
        if (((match - count()) & U32) != 0) arm();
        else {
            cancelAlarm.run();
            cancelAlarm = () -> {};
        }
    }
}
