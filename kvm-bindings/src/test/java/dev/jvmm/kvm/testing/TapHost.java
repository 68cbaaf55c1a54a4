package dev.jvmm.kvm.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
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

    /**
     * Makes tap {@code tap} with {@code hostIp}/24 and brings it up (after {@link #require()});
     * each step must succeed. Pair it with {@link #remove} in an {@code @AfterEach}.
     */
    public static void create(String tap, String hostIp) throws IOException, InterruptedException {
        require();
        Assertions.assertEquals(0, run("tunctl", "-t", tap), "tunctl -t " + tap);
        Assertions.assertEquals(0, run("ip", "addr", "add", hostIp + "/24", "dev", tap));
        Assertions.assertEquals(0, run("ip", "link", "set", tap, "up"));
    }

    /** Deletes tap {@code tap} if it exists. */
    public static void remove(String tap) throws IOException, InterruptedException {
        if (Files.exists(Path.of("/sys/class/net/" + tap))) run("tunctl", "-d", tap);
    }

    /** Runs a host command with its output discarded and returns its exit status (30 s at most). */
    public static int run(String... cmd) throws IOException, InterruptedException {
        Process p =
                new ProcessBuilder(cmd)
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " hung");
        }
        return p.exitValue();
    }

    /** Skips (or, where tests must run, fails) unless taps can be made here. */
    public static void require() {
        String why = unavailableReason();
        if (why == null) return;
        if ("1".equals(System.getenv(Arm64KvmCondition.REQUIRE_ENV))) Assertions.fail(why);
        Assumptions.abort(why);
    }
}
