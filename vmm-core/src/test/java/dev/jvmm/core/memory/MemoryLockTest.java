package dev.jvmm.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.sys.Libc;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MemoryLockTest {
    private static final long MIB = 1 << 20;
    private static final long NEEDED = 256 * MIB + 64 * 1024;
    private static final String WHAT = "256 MiB RAM + 64 KiB PV-time records";

    @Test
    void enoughLimitUnlimitedOrCapIpcLockIsFine() {
        assertEquals(
                Optional.empty(), MemoryLock.limitProblem(NEEDED, NEEDED, NEEDED, false, WHAT));
        assertEquals(
                Optional.empty(),
                MemoryLock.limitProblem(
                        NEEDED, Libc.RLIM_INFINITY, Libc.RLIM_INFINITY, false, WHAT));
        assertEquals(
                Optional.empty(),
                MemoryLock.limitProblem(NEEDED, 64 * 1024, 64 * 1024, true, WHAT));
    }

    @Test
    void lowSoftLimitSaysHowToRaiseItWithUlimit() {
        assertEquals(
                Optional.of(
                        "--mem-lock: RLIMIT_MEMLOCK is 8192 KiB, too low to lock 262208 KiB ("
                                + WHAT
                                + "); raise"
                                + " it with 'ulimit -l 262208' (or 'ulimit -l unlimited') before starting jvmm, or give jvmm CAP_IPC_LOCK"),
                MemoryLock.limitProblem(NEEDED, 8 * MIB, Libc.RLIM_INFINITY, false, WHAT));
        assertEquals(
                Optional.of(
                        "--mem-lock: RLIMIT_MEMLOCK is 8192 KiB, too low to lock 262208 KiB ("
                                + WHAT
                                + "); raise"
                                + " it with 'ulimit -l 262208' (or 'ulimit -l unlimited') before starting jvmm, or give jvmm CAP_IPC_LOCK"),
                MemoryLock.limitProblem(NEEDED, 8 * MIB, NEEDED, false, WHAT));
    }

    @Test
    void lowHardLimitPointsAtLimitsConf() {
        assertEquals(
                Optional.of(
                        "--mem-lock: RLIMIT_MEMLOCK is 64 KiB, too low to lock 262208 KiB ("
                                + WHAT
                                + "); the hard"
                                + " limit is 64 KiB, so raise it in /etc/security/limits.conf ('USER hard memlock 262208', then log in"
                                + " again) or give jvmm CAP_IPC_LOCK"),
                MemoryLock.limitProblem(NEEDED, 64 * 1024, 64 * 1024, false, WHAT));
    }

    @Test
    void neededIsRoundedUpToWholeKib() {
        assertTrue(
                MemoryLock.limitProblem(1025, 1024, 1024, false, "x")
                        .orElseThrow()
                        .contains("lock 2 KiB (x)"));
    }
}
