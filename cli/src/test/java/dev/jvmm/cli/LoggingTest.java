package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The process's System.Logger backend: one line per record on stderr, at the set level. */
class LoggingTest {
    @BeforeEach
    @AfterEach
    void defaultLevel() {
        Logging.configure("info");
    }

    /** What {@code run} logs through {@code System.getLogger} while stderr is captured. */
    private static String logged(Runnable r) {
        PrintStream before = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(before);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void systemLoggersAreThisFinders() {
        System.Logger log = System.getLogger("dev.jvmm.test");
        String out =
                logged(
                        () -> {
                            log.log(Level.WARNING, "disk {0}: {1} errors", "vda", 3);
                            log.log(Level.INFO, "plain {0} text");
                        });
        assertEquals(
                "jvmm: warning: disk vda: 3 errors"
                        + System.lineSeparator()
                        + "jvmm: info: plain {0} text"
                        + System.lineSeparator(),
                out);
    }

    @Test
    void theLevelFiltersAndNamesRecordsAsBefore() {
        System.Logger log = System.getLogger("dev.jvmm.test");
        Logging.configure("warn");
        assertFalse(log.isLoggable(Level.INFO));
        assertTrue(log.isLoggable(Level.ERROR));
        String out =
                logged(
                        () -> {
                            log.log(Level.INFO, "hidden");
                            log.log(Level.ERROR, "shown");
                        });
        assertEquals("jvmm: severe: shown" + System.lineSeparator(), out);
        Logging.configure("debug");
        assertTrue(log.isLoggable(Level.DEBUG));
        assertFalse(log.isLoggable(Level.TRACE));
        assertEquals(
                "jvmm: fine: step" + System.lineSeparator(),
                logged(() -> log.log(Level.DEBUG, "step")));
    }

    @Test
    void aThrowableShowsItsStackOnlyAtDebugLevel() {
        System.Logger log = System.getLogger("dev.jvmm.test");
        Exception e = new IllegalStateException("boom");
        Logging.configure("info");
        assertEquals(
                "jvmm: severe: failed" + System.lineSeparator(),
                logged(() -> log.log(Level.ERROR, "failed", e)));
        Logging.configure("debug");
        String out = logged(() -> log.log(Level.ERROR, "failed", e));
        assertTrue(out.startsWith("jvmm: severe: failed" + System.lineSeparator()), out);
        assertTrue(out.contains("java.lang.IllegalStateException: boom"), out);
        assertTrue(out.contains("at dev.jvmm.cli.LoggingTest"), out);
    }

    @Test
    void anUnknownLevelIsAUsageError() {
        UsageException e = assertThrows(UsageException.class, () -> Logging.configure("loud"));
        assertEquals("--log-level loud: use error, warn, info or debug", e.getMessage());
    }
}
