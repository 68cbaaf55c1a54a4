package dev.jvmm.core.device;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.StateJson;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class Pl031RtcTest {
    // Register offsets from the PL031 TRM (ARM DDI 0224), spelled out independently of the device.
    static final int DR = 0x00, MR = 0x04, LR = 0x08, CR = 0x0c;
    static final int IMSC = 0x10, RIS = 0x14, MIS = 0x18, ICR = 0x1c;
    static final long T0 = 1_767_225_600L; // 2026-01-01T00:00:00Z

    /** A host clock the test moves by hand. */
    static final class FakeClock implements InstantSource {
        Instant now = Instant.ofEpochSecond(T0, 250_000_000);

        @Override
        public Instant instant() {
            return now;
        }
    }

    /** Alarms that run when the test advances the clock past them. */
    static final class FakeAlarms implements Pl031Rtc.AlarmClock {
        static final class Alarm {
            final Instant when;
            final Runnable task;
            boolean cancelled;

            Alarm(Instant when, Runnable task) {
                this.when = when;
                this.task = task;
            }

            Instant when() {
                return when;
            }
        }

        final List<Alarm> alarms = new ArrayList<>();

        @Override
        public Runnable at(Instant when, Runnable task) {
            Alarm a = new Alarm(when, task);
            alarms.add(a);
            return () -> a.cancelled = true;
        }

        long live() {
            return alarms.stream().filter(a -> !a.cancelled).count();
        }

        void runDue(Instant now) {
            for (Alarm a : List.copyOf(alarms)) {
                if (!a.cancelled && !a.when.isAfter(now)) {
                    alarms.remove(a);
                    a.task.run();
                }
            }
        }
    }

    FakeClock clock;
    FakeAlarms alarms;
    Uart8250DeviceTest.Edges irq;
    Pl031Rtc rtc;

    @BeforeEach
    void setUp() {
        clock = new FakeClock();
        alarms = new FakeAlarms();
        irq = new Uart8250DeviceTest.Edges();
        rtc = new Pl031Rtc(irq, clock, alarms);
    }

    long in(int offset) {
        byte[] d = new byte[4];
        rtc.read(offset, d);
        return (d[0] & 0xffL) | (d[1] & 0xffL) << 8 | (d[2] & 0xffL) << 16 | (d[3] & 0xffL) << 24;
    }

    void out(int offset, long v) {
        rtc.write(
                offset, new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)});
    }

    void advance(long seconds) {
        clock.now = clock.now.plus(Duration.ofSeconds(seconds));
        alarms.runDue(clock.now);
    }

    @Test
    void primeCellIdsAreWhatLinuxsAmbaBusMatches() {
        // amba_read_periphid: the low byte of each of four words, little-endian
        long periph = 0, cell = 0;
        for (int i = 0; i < 4; i++) {
            periph |= (in(0xfe0 + 4 * i) & 0xff) << (8 * i);
            cell |= (in(0xff0 + 4 * i) & 0xff) << (8 * i);
            assertEquals(0, in(0xfe0 + 4 * i) & ~0xffL, "upper bits of ID word " + i);
        }
        assertEquals(0x0004_1031L, periph);
        assertEquals(0xB105_F00DL, cell);
    }

    @Test
    void dataRegisterIsTheHostsWallClockInSeconds() {
        assertEquals(T0, in(DR));
        advance(59);
        assertEquals(T0 + 59, in(DR));
    }

    @Test
    void loadSetsTheGuestsTimeAsAnOffsetFromTheHostClock() {
        out(LR, 1_000_000_000L);
        assertEquals(1_000_000_000L, in(DR));
        assertEquals(1_000_000_000L, in(LR), "LR reads back what was loaded");
        advance(7);
        assertEquals(1_000_000_007L, in(DR));
        assertEquals(1_000_000_000L - T0, rtc.saveState().offsetSeconds());
        assertEquals(Instant.ofEpochSecond(T0 + 7, 250_000_000), clock.now, "host clock untouched");
    }

    @Test
    void theCounterIs32BitsWideAndWraps() {
        out(LR, 0xffff_fffeL);
        advance(3);
        assertEquals(1, in(DR));
    }

    @Test
    void startBitIsStickyOnceSet() {
        assertEquals(0, in(CR));
        out(CR, 0);
        assertEquals(0, in(CR));
        out(CR, 0xffff_ffffL);
        assertEquals(1, in(CR));
        out(CR, 0);
        assertEquals(1, in(CR), "only a machine reset clears RTCStart");
        assertEquals(T0, in(DR), "the counter runs whatever RTCCR says");
    }

    @Test
    void matchRaisesTheLineWhenTheCounterGetsThereAndOnlyIfUnmasked() {
        out(MR, T0 + 10);
        out(IMSC, 1);
        advance(9);
        assertEquals(0, in(RIS));
        assertEquals(List.of(), irq.calls);
        advance(1);
        assertEquals(1, in(RIS));
        assertEquals(1, in(MIS));
        assertEquals(List.of(true), irq.calls);
        out(ICR, 1);
        assertEquals(0, in(RIS));
        assertEquals(List.of(true, false), irq.calls);
        advance(1000);
        assertEquals(List.of(true, false), irq.calls, "one match, one interrupt");
    }

    @Test
    void maskGatesTheLineButNotTheRawStatus() {
        out(MR, T0 + 1);
        advance(1);
        assertEquals(1, in(RIS));
        assertEquals(0, in(MIS));
        assertEquals(List.of(), irq.calls);
        out(IMSC, 1);
        assertEquals(List.of(true), irq.calls);
        out(IMSC, 0);
        assertEquals(List.of(true, false), irq.calls);
        assertEquals(1, in(RIS));
    }

    @Test
    void aMatchOnTheCurrentSecondFiresOnceAndClearingItDoesNotRefire() {
        out(IMSC, 1);
        out(MR, in(DR));
        assertEquals(List.of(true), irq.calls);
        for (int i = 0; i < 1000; i++) out(ICR, 1); // the counter still equals the match
        assertEquals(List.of(true, false), irq.calls);
        assertEquals(0, alarms.live(), "nothing left to fire");
    }

    @Test
    void aMatchInThePastWaitsForTheCounterToWrapNotFiresNow() {
        out(IMSC, 1);
        out(MR, T0 - 5);
        assertEquals(List.of(), irq.calls);
        assertEquals(1, alarms.live());
        assertEquals(Instant.ofEpochSecond(T0 + (1L << 32) - 5), alarms.alarms.get(0).when());
    }

    @Test
    void aGuestRewritingTheMatchInALoopKeepsOneAlarmAndGetsAtMostOneInterruptPerWrite() {
        out(IMSC, 1);
        for (int i = 0; i < 10_000; i++) {
            out(MR, T0 + 1 + i % 3);
            out(ICR, 1);
        }
        assertEquals(1, alarms.live());
        assertEquals(List.of(), irq.calls);
        advance(1);
        assertEquals(List.of(true), irq.calls);
    }

    @Test
    void reloadingTheTimeReschedulesTheMatch() {
        out(IMSC, 1);
        out(MR, 5000);
        out(LR, 4990);
        advance(9);
        assertEquals(List.of(), irq.calls);
        advance(1);
        assertEquals(List.of(true), irq.calls);
        assertEquals(5000, in(DR));
    }

    @Test
    void writeOnlyAndReservedOffsetsReadAsZero() {
        out(ICR, 1);
        assertEquals(0, in(ICR));
        for (int off = 0x20; off < 0xfe0; off += 4) assertEquals(0, in(off), "offset " + off);
    }

    @Test
    void writesToReadOnlyAndReservedOffsetsChangeNothing() {
        out(MR, T0 + 100);
        out(IMSC, 1);
        Pl031Rtc.State before = rtc.saveState();
        long bad = rtc.badAccesses();
        int ignored = 0;
        for (int off = 0; off < 0x1000; off += 4) {
            if (off == MR || off == LR || off == CR || off == IMSC || off == ICR) continue;
            out(off, 0xffff_ffffL);
            ignored++;
        }
        assertEquals(before, rtc.saveState());
        assertEquals(T0, in(DR));
        assertEquals(0x31, in(0xfe0));
        assertEquals(List.of(), irq.calls);
        assertEquals(bad + ignored, rtc.badAccesses());
    }

    @Test
    void everyOffsetAndSizeThatIsNotAnAlignedWordReadsZeroAndWritesNothing() {
        out(LR, 0x1234_5678L);
        Pl031Rtc.State before = rtc.saveState();
        for (int size : new int[] {1, 2, 4, 8}) {
            for (long off = 0; off < 0x1008; off++) {
                boolean word = size == 4 && off % 4 == 0 && off <= 0xffc;
                byte[] d = new byte[size];
                rtc.read(off, d);
                if (!word) {
                    for (byte b : d) assertEquals(0, b, "size " + size + " offset " + off);
                    byte[] ones = new byte[size];
                    java.util.Arrays.fill(ones, (byte) 0xff);
                    rtc.write(off, ones);
                }
            }
        }
        assertEquals(before, rtc.saveState());
        assertEquals(List.of(), irq.calls);
        assertEquals(0x1234_5678L, in(DR));
        // negative offsets (the bus never sends them, but a device must not index with them)
        rtc.read(-4, new byte[4]);
        rtc.write(-4, new byte[4]);
        assertEquals(before, rtc.saveState());
    }

    @Test
    void anAlarmThatComesDueWhilePausedWaitsForTheResume() {
        out(IMSC, 1);
        out(MR, T0 + 2);
        rtc.hold();
        advance(5);
        assertEquals(0, in(RIS), "paused: the guest-visible state does not move");
        assertEquals(List.of(), irq.calls);
        assertTrue(rtc.saveState().rawInterrupt(), "but the snapshot carries what resume shows");
        rtc.release();
        assertEquals(1, in(RIS));
        assertEquals(List.of(true), irq.calls);
    }

    @Test
    void resetClearsTheInterruptLogicAndKeepsTheTime() {
        out(LR, 42);
        out(CR, 1);
        out(IMSC, 1);
        out(MR, 42);
        assertEquals(List.of(true), irq.calls);
        rtc.reset();
        assertEquals(List.of(true, false), irq.calls);
        assertEquals(0, in(RIS));
        assertEquals(0, in(IMSC));
        assertEquals(0, in(MR));
        assertEquals(42, in(DR));
        assertEquals(1, in(CR));
    }

    @Test
    void stateRoundTripsThroughTheSnapshotJson() {
        out(LR, 2_000_000_000L);
        out(CR, 1);
        out(MR, 2_000_000_000L);
        out(IMSC, 1); // raw set by the match, line high
        out(MR, 2_000_000_050L);
        Pl031Rtc.State saved = rtc.saveState();
        assertEquals(
                new Pl031Rtc.State(
                        2_000_000_000L - T0, 2_000_000_050L, 2_000_000_000L, true, true, true),
                saved);

        String json = StateJson.write(saved);
        Pl031Rtc.State read = StateJson.read(json, Pl031Rtc.State.class, rtc.stateKey());
        Uart8250DeviceTest.Edges irq2 = new Uart8250DeviceTest.Edges();
        FakeAlarms alarms2 = new FakeAlarms();
        Pl031Rtc restored = new Pl031Rtc(irq2, clock, alarms2);
        restored.restoreState(read);
        assertEquals(saved, restored.saveState());
        assertEquals(List.of(true), irq2.calls, "the restored line is raised again");
        assertEquals(1, alarms2.live(), "the pending match is armed again");
        assertEquals(Instant.ofEpochSecond(T0 + 50), alarms2.alarms.get(0).when());
        assertEquals("rtc", restored.stateKey());
    }

    @Test
    void aDamagedStateIsRefusedAndNothingApplied() {
        Pl031Rtc.State before = rtc.saveState();
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () ->
                                rtc.restoreState(
                                        new Pl031Rtc.State(5, 1L << 32, 0, true, true, true)));
        assertEquals("snapshot: rtc: match 4294967296 is not a 32-bit value", e.getMessage());
        assertThrows(
                SnapshotException.class,
                () -> rtc.restoreState(new Pl031Rtc.State(5, 0, -1, true, true, true)));
        assertEquals(before, rtc.saveState());
        assertEquals(List.of(), irq.calls);
        assertThrows(
                SnapshotException.class,
                () ->
                        StateJson.read(
                                "{\"offsetSeconds\":1,\"bogus\":2}", Pl031Rtc.State.class, "rtc"));
    }
}
