package dev.jvmm.core.device;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AlarmThreadTest {
    @Test
    void runsATaskAtItsInstantAndCancelledTasksLeaveTheQueue() throws Exception {
        try (AlarmThread alarms = new AlarmThread(InstantSource.system(), "test-alarm")) {
            CountDownLatch ran = new CountDownLatch(1);
            long t0 = System.nanoTime();
            alarms.at(Instant.now().plusMillis(200), ran::countDown);
            assertTrue(ran.await(10, TimeUnit.SECONDS));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(150), "not early");

            // a guest rewriting RTCMR: each rearm cancels the previous alarm, years ahead
            Runnable cancel = () -> {};
            for (int i = 0; i < 10_000; i++) {
                cancel.run();
                cancel = alarms.at(Instant.now().plusSeconds(1L << 31), () -> fail("ran"));
            }
            assertEquals(1, alarms.pending());
            cancel.run();
            assertEquals(0, alarms.pending());
        }
    }

    @Test
    void aRealRtcRaisesItsMatchInterruptOnTime() throws Exception {
        CountDownLatch raised = new CountDownLatch(1);
        try (Pl031Rtc rtc = Pl031Rtc.onHostClock(high -> raised.countDown())) {
            byte[] d = new byte[4];
            rtc.read(0x00, d); // RTCDR
            long now =
                    (d[0] & 0xffL)
                            | (d[1] & 0xffL) << 8
                            | (d[2] & 0xffL) << 16
                            | (d[3] & 0xffL) << 24;
            rtc.write(0x10, new byte[] {1, 0, 0, 0}); // RTCIMSC
            long match = now + 1;
            rtc.write(
                    0x04,
                    new byte[] {
                        (byte) match,
                        (byte) (match >> 8),
                        (byte) (match >> 16),
                        (byte) (match >> 24)
                    });
            assertTrue(raised.await(5, TimeUnit.SECONDS), "match interrupt within 5 s");
        }
    }
}
