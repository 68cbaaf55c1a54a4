package dev.jvmm.kvm.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Tests that make tap interfaces need root (CAP_NET_ADMIN) and /dev/net/tun. The lab's L1 has both;
 * elsewhere such tests skip with the reason, except under {@link Arm64KvmCondition#REQUIRE_ENV},
 * where a missing prerequisite is a failure (the lab must never skip silently).
 */
public final class TapHost {
    private TapHost() {}

    /** Null when this process can create taps, else why not. */
    public static String unavailableReason() {
        Path tun = Path.of("/dev/net/tun");
        if (!Files.exists(tun)) return "needs /dev/net/tun (the tun module)";
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            if (!Integer.valueOf(0).equals(uid))
                return "needs root to create tap interfaces (uid " + uid + ")";
        } catch (IOException | UnsupportedOperationException e) {
            return "cannot tell whether this process is root: " + e;
        }
        return null;
    }

    /** Skips (or, where tests must run, fails) unless taps can be made here. */
    public static void require() {
        String why = unavailableReason();
        if (why == null) return;
        if ("1".equals(System.getenv(Arm64KvmCondition.REQUIRE_ENV))) Assertions.fail(why);
        Assumptions.abort(why);
    }
}
