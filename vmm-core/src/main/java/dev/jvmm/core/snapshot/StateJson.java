package dev.jvmm.core.snapshot;

import com.fasterxml.jackson.jr.ob.JSON;
import com.fasterxml.jackson.jr.ob.JSONObjectException;
import dev.jvmm.core.JvmmException.Kind;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.Map;

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
        Object tree;
        try {
            tree = CODEC.anyFrom(json);
        } catch (IOException e) {
            throw SnapshotException.invalid(part, firstLine(e.getMessage()));
        }
        // jackson-jr would pass a missing primitive as null into the record's constructor and
        // report the resulting exception with Java class names: name the field instead.
        String missing = missingField(tree, type, "");
        if (missing != null)
            throw SnapshotException.invalid(part, "field " + missing + " is missing");
        try {
            S s = CODEC.beanFrom(type, json);
            if (s == null) throw SnapshotException.invalid(part, "no state record");
            return s;
        } catch (JSONObjectException e) {
            throw SnapshotException.invalid(part, reason(e));
        } catch (IOException | IllegalArgumentException e) {
            throw SnapshotException.invalid(part, firstLine(e.getMessage()));
        }
    }

    /**
     * The record of {@code type} that {@code tree} (a JSON object as jackson-jr parses it) holds:
     * bound straight from the tree when it fits exactly ({@link RecordBinder}), else read from its
     * text as {@link #read} does, with the same checks and the same one-line refusal.
     */
    public static <S extends Record> S fromTree(Object tree, Class<S> type, String part) {
        S s = bind(tree, type);
        if (s != null) return s;
        String json;
        try {
            json = JSON.std.asString(tree);
        } catch (IOException e) {
            throw SnapshotException.invalid(part, firstLine(e.getMessage()));
        }
        return read(json, type, part);
    }

    /**
     * {@code tree} bound straight into a record of {@code type}, or null when it does not fit
     * exactly (then read its text with {@link #read} for the refusal).
     */
    public static <S extends Record> S bind(Object tree, Class<S> type) {
        return RecordBinder.bind(tree, type);
    }

    /** The dotted path of the first primitive component absent from {@code tree}, or null. */
    private static String missingField(Object tree, Class<?> type, String prefix) {
        if (!(tree instanceof Map<?, ?> map))
            return type.isRecord() ? prefix + "(the record)" : null;
        // an unknown field is left to jackson-jr, whose message names it
        for (Object key : map.keySet()) {
            boolean known = false;
            for (RecordComponent c : type.getRecordComponents()) known |= c.getName().equals(key);
            if (!known) return null;
        }
        for (RecordComponent c : type.getRecordComponents()) {
            Object v = map.get(c.getName());
            String path = prefix + c.getName();
            if (v == null) {
                if (c.getType().isPrimitive()) return path;
                continue;
            }
            if (c.getType().isRecord()) {
                String m = missingField(v, c.getType(), path + ".");
                if (m != null) return m;
            } else if (v instanceof List<?> list
                    && c.getGenericType() instanceof ParameterizedType pt
                    && pt.getActualTypeArguments()[0] instanceof Class<?> element
                    && element.isRecord()) {
                for (int i = 0; i < list.size(); i++) {
                    String m = missingField(list.get(i), element, path + "[" + i + "].");
                    if (m != null) return m;
                }
            }
        }
        return null;
    }

    /**
     * jackson-jr's reason without Java class names: a record constructor's own check (an {@link
     * IllegalArgumentException} with a message) is quoted, anything else is described.
     */
    private static String reason(JSONObjectException e) {
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof IllegalArgumentException && t.getMessage() != null)
                return firstLine(t.getMessage());
        }
        String m = e.getOriginalMessage();
        if (m != null && m.contains("Failed to create an instance"))
            return "a field has an invalid value";
        return firstLine(m);
    }

    private static String firstLine(String s) {
        if (s == null) return "unreadable state";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
