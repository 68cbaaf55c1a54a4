package dev.jvmm.core.caps;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What this host's KVM offers jvmm, as an ordered tree of sections and values (Boolean, Number,
 * String, a List of Strings or Numbers, or null for "absent"), so the table and the JSON come from
 * one source.
 */
public final class HostCapabilities {
    private final Map<String, Object> root = new LinkedHashMap<>();

    HostCapabilities() {}

    void put(String key, Object value) {
        root.put(key, value);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> section(String key) {
        return (Map<String, Object>)
                root.computeIfAbsent(key, k -> new LinkedHashMap<String, Object>());
    }

    /** The tree: keys in probe order; nested maps for sections. */
    public Map<String, Object> asMap() {
        return Collections.unmodifiableMap(root);
    }

    /** Looks up "section.key" or "key"; null when absent. */
    public Object get(String dottedKey) {
        Object cur = root;
        for (String part : dottedKey.split("\\.", -1)) { // "a." looks up "", which no section has
            if (!(cur instanceof Map<?, ?> m)) return null;
            cur = m.get(part);
        }
        return cur;
    }

    /** "0x3" style for register values. */
    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
