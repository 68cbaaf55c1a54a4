package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The warm-up without KVM: its synthetic exits run through, and both waits end. */
class ExitPathWarmupTest {
    @Test
    void syntheticRoundsRunThroughTheRealExitCode() {
        // a private UART, router and kvm_run: an exception here would mean the warm-up stops
        // early in every VM and the guest's first exits run interpreted
        new ExitPathWarmup(null, null).rounds(50);
    }

    @Test
    void withoutAVcpuItReleasesAndEnds() {
        assertTimeoutPreemptively(
                Duration.ofSeconds(60),
                () -> {
                    ExitPathWarmup.Running w = ExitPathWarmup.start(null, null);
                    w.releaseVcpu();
                    w.finish();
                    assertFalse(w.isAlive());
                });
    }

    @Test
    void aCancelledWarmupEndsPromptly() {
        assertTimeoutPreemptively(
                Duration.ofSeconds(60),
                () -> {
                    ExitPathWarmup.Running w = ExitPathWarmup.start(null, null);
                    w.cancel();
                    assertFalse(w.isAlive());
                });
    }
}
