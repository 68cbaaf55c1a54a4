package dev.jvmm.cli;

import java.lang.System.Logger.Level;
import java.text.MessageFormat;
import java.util.Locale;
import java.util.ResourceBundle;

/**
 * The VMM's log: {@code System.Logger} lines on stderr, one per record ({@code jvmm: warning:
 * ...}), at the level {@code --log-level} sets (info and above until a command sets one).
 *
 * <p>This is the process's {@link System.LoggerFinder} (META-INF/services), instead of the JDK's
 * default, which routes {@code System.Logger} through {@code java.util.logging}: starting that
 * (LogManager, its configuration file, handlers) was on every {@code jvmm run}'s main thread before
 * the first guest instruction, ~3 ms of a 92 ms run on an x86 host, ~0.05 s in the lab's L1
 * (bench/README.md, boot benchmark, 2026-12-08). The level names are those the log had under {@code
 * java.util.logging} ({@code severe}, {@code warning}, {@code info}, {@code fine}), so its lines
 * read as before.
 */
public final class Logging extends System.LoggerFinder {
    /** The least severe level printed; INFO until a command sets its own. */
    private static volatile Level threshold = Level.INFO;

    /** Public for {@link java.util.ServiceLoader}; commands use {@link #configure}. */
    public Logging() {}

    /** Sets the level from {@code --log-level}: error, warn, info or debug. */
    static void configure(String level) {
        threshold =
                switch (level.toLowerCase(Locale.ROOT)) {
                    case "error" -> Level.ERROR;
                    case "warn", "warning" -> Level.WARNING;
                    case "info" -> Level.INFO;
                    case "debug" -> Level.DEBUG;
                    default ->
                            throw new UsageException(
                                    "--log-level " + level + ": use error, warn, info or debug");
                };
    }

    @Override
    public System.Logger getLogger(String name, Module module) {
        return new Line(name);
    }

    /** The line a record makes, its stack trace included at debug level. */
    static String format(Level level, String msg, Throwable thrown, Object... params) {
        String text =
                params == null || params.length == 0 || msg == null
                        ? String.valueOf(msg)
                        : MessageFormat.format(msg, params);
        String line = "jvmm: " + word(level) + ": " + text + System.lineSeparator();
        if (thrown != null && threshold.getSeverity() <= Level.DEBUG.getSeverity()) {
            var sw = new java.io.StringWriter();
            thrown.printStackTrace(new java.io.PrintWriter(sw));
            line += sw;
        }
        return line;
    }

    /** java.util.logging's names for the levels, as the log has always printed them. */
    private static String word(Level level) {
        return switch (level) {
            case ERROR -> "severe";
            case WARNING -> "warning";
            case INFO -> "info";
            case DEBUG -> "fine";
            case TRACE -> "finer";
            case ALL, OFF -> level.getName().toLowerCase(Locale.ROOT);
        };
    }

    /** A named logger: every one shares the threshold and writes whole lines to stderr. */
    private record Line(String name) implements System.Logger {
        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean isLoggable(Level level) {
            return level != Level.OFF
                    && level != Level.ALL
                    && level.getSeverity() >= threshold.getSeverity();
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            if (isLoggable(level)) System.err.print(format(level, msg, thrown));
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            if (isLoggable(level)) System.err.print(format(level, format, null, params));
        }
    }
}
