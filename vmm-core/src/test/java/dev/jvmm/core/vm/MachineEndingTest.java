package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.vm.VmConfig.OnReset;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What a boot's end means for the run ({@link Machine#ending}): reboot in place, or which result.
 */
class MachineEndingTest {
    private static final VmResult RESET = VmResult.of(VmResult.Reason.RESET, "guest reset");
    private static final VmResult OFF = VmResult.of(VmResult.Reason.POWEROFF, "guest off");
    private static final VmResult TERM = VmResult.signal(15, "SIGTERM");

    @Test
    void aResetRebootsInPlaceOnlyWhenAskedAndNobodyStoppedTheRun() {
        assertTrue(Machine.ending(RESET, OnReset.REBOOT, null).isEmpty());
        assertEquals(Optional.of(RESET), Machine.ending(RESET, OnReset.EXIT, null));
        assertEquals(Optional.of(OFF), Machine.ending(OFF, OnReset.REBOOT, null));
    }

    /**
     * SoakBootTest saw exit 32 for a SIGTERM that arrived while the guest was resetting with
     * --on-reset reboot: the reset is not an ending there, so the signal's result must win.
     */
    @Test
    void aStopFromOutsideDuringAResetThatRebootsWins() {
        assertEquals(Optional.of(TERM), Machine.ending(RESET, OnReset.REBOOT, TERM));
        // with --on-reset exit the reset came first and is the run's end (exit 32)
        assertEquals(Optional.of(RESET), Machine.ending(RESET, OnReset.EXIT, TERM));
    }
}
