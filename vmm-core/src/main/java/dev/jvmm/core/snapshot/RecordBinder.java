package dev.jvmm.core.snapshot;

import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Binds a JSON tree as jackson-jr parses it ({@code Map}, {@code List}, {@code String}, {@code
 * Integer}, {@code Long}, {@code Boolean}, null) straight into a state record, without writing it
 * back as text and parsing it again (a restore's manifest and every part's record used to go map →
 * text → tree → record).
 *
 * <p>Exact only: it gives null whenever the tree does not fit the record exactly — an unknown or
 * missing-primitive field, a number outside its type, a string that is not padded standard base64
 * for a {@code byte[]}, a null inside a list or map, a type this binder does not know, a record
 * constructor's refusal. The caller then reads the JSON text with {@link StateJson#read}, whose
 * checks and messages stay the rule; for a tree that fits, the record is the one jackson-jr makes
 * (StateJsonTest compares the two on every part's record).
 */
final class RecordBinder {
    /** The marker for "does not fit exactly". */
    private static final Object NO = new Object();

    /** A record type's components and canonical constructor (null when not accessible). */
    @SuppressWarnings("ArrayRecordComponent") // private, filled once per type, never changed
    private record Shape(String[] names, Type[] types, Class<?>[] raw, Constructor<?> ctor) {}

    private static final ClassValue<Shape> SHAPES =
            new ClassValue<>() {
                @Override
                protected Shape computeValue(Class<?> type) {
                    RecordComponent[] cs = type.getRecordComponents();
                    String[] names = new String[cs.length];
                    Type[] types = new Type[cs.length];
                    Class<?>[] raw = new Class<?>[cs.length];
                    for (int i = 0; i < cs.length; i++) {
                        names[i] = cs[i].getName();
                        types[i] = cs[i].getGenericType();
                        raw[i] = cs[i].getType();
                    }
                    Constructor<?> ctor;
                    try {
                        ctor = type.getDeclaredConstructor(raw);
                        ctor.setAccessible(true);
                    } catch (ReflectiveOperationException | RuntimeException e) {
                        ctor = null;
                    }
                    return new Shape(names, types, raw, ctor);
                }
            };

    private RecordBinder() {}

    /** The record of {@code type} that {@code tree} holds, or null when it does not fit exactly. */
    static <S extends Record> S bind(Object tree, Class<S> type) {
        Object v = record(tree, type);
        return v == NO ? null : type.cast(v);
    }

    private static Object record(Object tree, Class<?> type) {
        if (!(tree instanceof Map<?, ?> map) || !type.isRecord()) return NO;
        Shape s = SHAPES.get(type);
        if (s.ctor() == null) return NO;
        Object[] args = new Object[s.names().length];
        int present = 0;
        for (int i = 0; i < args.length; i++) {
            Object raw = map.get(s.names()[i]);
            if (raw != null || map.containsKey(s.names()[i])) present++;
            if (raw == null) {
                if (s.raw()[i].isPrimitive()) return NO;
                continue;
            }
            Object v = value(raw, s.types()[i]);
            if (v == NO) return NO;
            args[i] = v;
        }
        if (present != map.size()) return NO; // a field the record does not have
        try {
            return s.ctor().newInstance(args);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return NO; // e.g. the record's own check: jackson-jr's path words the message
        }
    }

    private static Object value(Object raw, Type t) {
        if (t instanceof Class<?> c) {
            if (c == long.class || c == Long.class) {
                if (raw instanceof Long || raw instanceof Integer)
                    return ((Number) raw).longValue();
                return NO;
            }
            if (c == int.class || c == Integer.class) return raw instanceof Integer ? raw : NO;
            if (c == boolean.class || c == Boolean.class) return raw instanceof Boolean ? raw : NO;
            if (c == String.class) return raw instanceof String ? raw : NO;
            if (c == byte[].class) return raw instanceof String s ? base64(s) : NO;
            if (c.isRecord()) return record(raw, c);
            return NO;
        }
        if (t instanceof ParameterizedType p && p.getRawType() instanceof Class<?> c) {
            Type[] args = p.getActualTypeArguments();
            if (c == List.class && raw instanceof List<?> list) {
                List<Object> out = new ArrayList<>(list.size());
                for (Object e : list) {
                    if (e == null) return NO;
                    Object v = value(e, args[0]);
                    if (v == NO) return NO;
                    out.add(v);
                }
                return out;
            }
            if (c == Map.class && args[0] == String.class && raw instanceof Map<?, ?> map) {
                Map<String, Object> out = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    if (!(e.getKey() instanceof String k) || e.getValue() == null) return NO;
                    // a free-form object (a device's record, read later by its own type) as parsed
                    Object v =
                            args[1] == Object.class ? e.getValue() : value(e.getValue(), args[1]);
                    if (v == NO) return NO;
                    out.put(k, v);
                }
                return out;
            }
        }
        return NO;
    }

    /** Padded standard base64, as jackson-jr writes {@code byte[]}; anything else is left to it. */
    private static Object base64(String s) {
        if (s.length() % 4 != 0) return NO;
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            return NO;
        }
    }
}
