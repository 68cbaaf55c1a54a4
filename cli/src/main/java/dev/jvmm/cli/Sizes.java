package dev.jvmm.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsers for the CLI's human-friendly sizes and durations; errors name the bad value. */
final class Sizes {
    private static final Pattern SIZE =
            Pattern.compile("(\\d+)\\s*([kmgt]?)(i?b)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION =
            Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?", Pattern.CASE_INSENSITIVE);

    private Sizes() {}

    /** "512" (MiB, as kvmtool's -m), "512M", "2G", "1048576K", "256MiB" → bytes. */
    static long memory(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches())
            throw new IllegalArgumentException(
                    "'" + text + "' is not a size (examples: 512, 512M, 2G)");
        long n = Long.parseLong(m.group(1));
        int shift =
                switch (m.group(2).toLowerCase(Locale.ROOT)) {
                    case "k" -> 10;
                    case "", "m" -> 20;
                    case "g" -> 30;
                    default -> 40;
                };
        if (m.group(2).isEmpty() && m.group(3) != null) shift = 0; // "4096B" means bytes
        if (n > (Long.MAX_VALUE >> shift))
            throw new IllegalArgumentException("'" + text + "' is too large");
        return n << shift;
    }

    /** The longest --timeout: a year, in the largest unit it accepts. */
    static final Duration MAX_DURATION = Duration.ofDays(365);

    /**
     * "30" (seconds), "30s", "500ms", "2m", "1.5h" → a duration from 1 ms to {@link #MAX_DURATION}.
     */
    static Duration duration(String text) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches())
            throw new IllegalArgumentException(
                    "'" + text + "' is not a duration (examples: 30, 30s, 500ms, 2m)");
        double v = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
        double millis =
                switch (unit) {
                    case "ms" -> v;
                    case "s" -> v * 1000;
                    case "m" -> v * 60_000;
                    default -> v * 3_600_000;
                };
        if (millis < 1 || millis > MAX_DURATION.toMillis()) {
            throw new IllegalArgumentException(
                    "'"
                            + text
                            + "' is out of range: from 1ms to "
                            + MAX_DURATION.toHours()
                            + "h (a year)");
        }
        return Duration.ofMillis((long) millis);
    }
}
