package dev.jvmm.core.hypercall.sdei;

import java.util.Locale;

/**
 * One SDEI event the platform (jvmm) offers: its number, private (one instance per PE) or shared
 * (one instance, routed to a PE), normal or critical priority. SDEI has no discovery of events; the
 * guest learns the numbers out of band (here: the user who declared them with {@code
 * --sdei-event}).
 */
public record SdeiEventSpec(int number, boolean shared, boolean critical) {
    /** Event 0: private, normal, the only event EVENT_SIGNAL can raise. */
    public static final SdeiEventSpec EVENT_0 = new SdeiEventSpec(Sdei.EVENT_0, false, false);

    public SdeiEventSpec {
        if (number < 0)
            throw new IllegalArgumentException(
                    "SDEI event number " + Integer.toUnsignedString(number));
    }

    public boolean signalable() {
        return number == Sdei.EVENT_0;
    }

    /**
     * Parses {@code NUM,shared|private,normal|critical} (the {@code --sdei-event} value). Event 0
     * is built in and cannot be declared.
     *
     * @throws IllegalArgumentException with a one-line message naming {@code text}
     */
    public static SdeiEventSpec parse(String text) {
        String[] p = (text == null ? "" : text).split(",", -1);
        String usage = " (use NUM,shared|private,normal|critical, e.g. 100,private,normal)";
        if (p.length != 3)
            throw new IllegalArgumentException(
                    "bad --sdei-event '" + text + "': expected 3 fields" + usage);
        int number;
        try {
            String n = p[0].trim().toLowerCase(Locale.ROOT);
            long v = n.startsWith("0x") ? Long.parseLong(n.substring(2), 16) : Long.parseLong(n);
            if (v < 1 || v > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(
                        "bad --sdei-event '"
                                + text
                                + "': event number "
                                + p[0].trim()
                                + " is not in 1.."
                                + Integer.MAX_VALUE
                                + " (event 0 is built in)");
            }
            number = (int) v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "bad --sdei-event '"
                            + text
                            + "': '"
                            + p[0].trim()
                            + "' is not a number"
                            + usage);
        }
        boolean shared =
                switch (p[1].trim().toLowerCase(Locale.ROOT)) {
                    case "shared" -> true;
                    case "private" -> false;
                    default ->
                            throw new IllegalArgumentException(
                                    "bad --sdei-event '"
                                            + text
                                            + "': type '"
                                            + p[1].trim()
                                            + "' is not shared or private");
                };
        boolean critical =
                switch (p[2].trim().toLowerCase(Locale.ROOT)) {
                    case "critical" -> true;
                    case "normal" -> false;
                    default ->
                            throw new IllegalArgumentException(
                                    "bad --sdei-event '"
                                            + text
                                            + "': priority '"
                                            + p[2].trim()
                                            + "' is not normal or critical");
                };
        return new SdeiEventSpec(number, shared, critical);
    }

    @Override
    public String toString() {
        return number
                + ","
                + (shared ? "shared" : "private")
                + ","
                + (critical ? "critical" : "normal");
    }
}
