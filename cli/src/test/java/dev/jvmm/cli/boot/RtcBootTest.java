package dev.jvmm.cli.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.testing.BootTest;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The PL031 RTC with the stock Debian kernel (RTC_DRV_PL031 and RTC_HCTOSYS built in): the guest
 * has /dev/rtc0 and boots with the host's date, a time it loads goes into the RTC (RTCLR) and reads
 * back, and a wake alarm raises the match interrupt.
 */
@BootTest
class RtcBootTest {
    private static final Duration BOOT_LIMIT = Duration.ofMinutes(3);

    private static long field(JvmmProcess.Result r, String name) {
        Matcher m = Pattern.compile(name + "=(-?\\d+)").matcher(r.out());
        assertTrue(m.find(), name + " missing\n" + r.describe());
        return Long.parseLong(m.group(1));
    }

    @Test
    void theGuestReadsTheHostsDateFromRtc0AndCanSetAndAlarmIt() {
        long before = System.currentTimeMillis() / 1000;
        JvmmProcess.Result r =
                JvmmProcess.run(
                        BOOT_LIMIT,
                        JvmmProcess.debian(
                                "echo RTC-NAME=$(cat /sys/class/rtc/rtc0/name);"
                                        + " test -c /dev/rtc0 && echo RTC-DEV-OK;"
                                        + " echo GUEST-EPOCH=$(date +%s);"
                                        + " echo RTC-EPOCH=$(cat /sys/class/rtc/rtc0/since_epoch);"
                                        // an alarm 2 s ahead: the match interrupt, counted by the
                                        // GIC line the driver requested
                                        + " echo +2 > /sys/class/rtc/rtc0/wakealarm; sleep 4;"
                                        + " echo RTC-IRQS=$(awk '/rtc-pl031|pl031/ {print $2}'"
                                        + " /proc/interrupts);"
                                        // the guest sets the time and writes it to the RTC
                                        // (RTCLR)
                                        + " date -u -s @1000000000 >/dev/null && hwclock -w -u"
                                        + " && sleep 1 && echo RTC-SET=$(cat"
                                        + " /sys/class/rtc/rtc0/since_epoch)"));
        long after = System.currentTimeMillis() / 1000;
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("JVMM-CMD-EXIT=0"), r.describe());
        assertTrue(r.out().contains("RTC-NAME=rtc-pl031"), r.describe());
        assertTrue(r.out().contains("RTC-DEV-OK"), r.describe());
        long guest = field(r, "GUEST-EPOCH");
        assertTrue(
                guest >= before - 60 && guest <= after + 60,
                "guest date "
                        + guest
                        + " not within 60 s of the host's ["
                        + before
                        + ", "
                        + after
                        + "]\n"
                        + r.describe());
        long rtc = field(r, "RTC-EPOCH");
        assertTrue(rtc >= before - 2 && rtc <= after + 2, "RTC " + rtc + "\n" + r.describe());
        assertTrue(
                field(r, "RTC-IRQS") >= 1, "the wake alarm raised no interrupt\n" + r.describe());
        long set = field(r, "RTC-SET");
        assertTrue(
                set >= 1_000_000_000L && set <= 1_000_000_003L,
                "RTC-SET " + set + "\n" + r.describe());
    }
}
