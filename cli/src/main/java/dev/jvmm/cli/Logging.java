package dev.jvmm.cli;

import java.util.Locale;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** One-line stderr logging for the VMM (System.Logger goes through java.util.logging). */
final class Logging {
    private Logging() {}

    static void configure(String level) {
        Level l =
                switch (level.toLowerCase(Locale.ROOT)) {
                    case "error" -> Level.SEVERE;
                    case "warn", "warning" -> Level.WARNING;
                    case "info" -> Level.INFO;
                    case "debug" -> Level.FINE;
                    default ->
                            throw new UsageException(
                                    "--log-level " + level + ": use error, warn, info or debug");
                };
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) root.removeHandler(h);
        ConsoleHandler h = new ConsoleHandler(); // writes to System.err
        h.setLevel(l);
        h.setFormatter(
                new Formatter() {
                    @Override
                    public String format(LogRecord r) {
                        String msg =
                                "jvmm: "
                                        + r.getLevel().getName().toLowerCase(Locale.ROOT)
                                        + ": "
                                        + formatMessage(r)
                                        + System.lineSeparator();
                        if (r.getThrown() != null && l.intValue() <= Level.FINE.intValue()) {
                            var sw = new java.io.StringWriter();
                            r.getThrown().printStackTrace(new java.io.PrintWriter(sw));
                            msg += sw;
                        }
                        return msg;
                    }
                });
        root.addHandler(h);
        root.setLevel(l);
    }
}
