package dev.jvmm.core.snapshot;

import com.fasterxml.jackson.jr.ob.JSON;
import com.fasterxml.jackson.jr.ob.JSONObjectException;
import dev.jvmm.core.JvmmException.Kind;
import java.io.IOException;

/**
 * Writes state records ({@link Snapshottable}) as JSON and reads them back, with jackson-jr's
 * record support: one codec for every part, so no part hand-writes its serialisation. {@code
 * byte[]} fields travel as base64 strings; {@code long} fields as JSON numbers (exact: jackson-jr
 * never goes through a double). Unknown properties are refused, so a misspelt or foreign field
 * cannot be silently dropped.
 */
public final class StateJson {
    private static final JSON CODEC =
            JSON.builder()
                    .enable(JSON.Feature.FAIL_ON_UNKNOWN_BEAN_PROPERTY)
                    .disable(JSON.Feature.WRITE_NULL_PROPERTIES)
                    .build();

    private StateJson() {}

    /** The record as one JSON object. */
    public static String write(Record state) {
        try {
            return CODEC.asString(state);
        } catch (IOException e) {
            throw new SnapshotException(
                    Kind.HOST_ERROR,
                    "snapshot: cannot write "
                            + state.getClass().getSimpleName()
                            + ": "
                            + e.getMessage(),
                    e);
        }
    }

    /**
     * The record of {@code type} that {@code json} holds.
     *
     * @param part names the part in the message when the JSON does not fit the record
     * @throws SnapshotException one line naming the part and jackson-jr's reason
     */
    public static <S extends Record> S read(String json, Class<S> type, String part) {
        try {
            S s = CODEC.beanFrom(type, json);
            if (s == null) throw SnapshotException.invalid(part, "no state record");
            return s;
        } catch (JSONObjectException e) {
            throw SnapshotException.invalid(part, firstLine(e.getOriginalMessage()));
        } catch (IOException | IllegalArgumentException e) {
            throw SnapshotException.invalid(part, firstLine(e.getMessage()));
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "unreadable state";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
