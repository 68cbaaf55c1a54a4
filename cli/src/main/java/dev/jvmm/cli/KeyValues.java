package dev.jvmm.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Device option values in the {@code key=value,key=value} form crosvm and Cloud Hypervisor use
 * ({@code --disk path=a.img,ro=on}). A first item without '=' is the value of the default key
 * (kvmtool's {@code -d a.img}), and ",," is a literal comma (QEMU's escape), so any path can be
 * given.
 */
final class KeyValues {
    private KeyValues() {}

    /**
     * @param keys the keys allowed, in the order the error message lists them
     * @param defaultKey the key of a leading bare item, or null if there is none
     * @throws IllegalArgumentException naming the bad item: unknown key, duplicate, empty value
     */
    static Map<String, String> parse(String text, List<String> keys, String defaultKey) {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> items = split(text);
        for (int i = 0; i < items.size(); i++) {
            String item = items.get(i);
            int eq = item.indexOf('=');
            String key, value;
            if (eq < 0 && i == 0 && defaultKey != null) {
                key = defaultKey;
                value = item;
            } else if (eq < 0) {
                throw new IllegalArgumentException(
                        "'" + item + "' is not key=value (keys: " + String.join(", ", keys) + ")");
            } else {
                key = item.substring(0, eq);
                value = item.substring(eq + 1);
            }
            if (!keys.contains(key)) {
                throw new IllegalArgumentException(
                        "unknown key '" + key + "' (keys: " + String.join(", ", keys) + ")");
            }
            if (value.isEmpty())
                throw new IllegalArgumentException("'" + key + "' has an empty value");
            if (out.put(key, value) != null)
                throw new IllegalArgumentException("'" + key + "' is given twice");
        }
        return out;
    }

    /** on/off as the peers spell it (also true/false, yes/no). */
    static boolean onOff(String key, String value) {
        return switch (value) {
            case "on", "true", "yes" -> true;
            case "off", "false", "no" -> false;
            default ->
                    throw new IllegalArgumentException(
                            "'" + key + "=" + value + "': expected on or off");
        };
    }

    private static List<String> split(String text) {
        List<String> items = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != ',') {
                cur.append(c);
            } else if (i + 1 < text.length() && text.charAt(i + 1) == ',') {
                cur.append(',');
                i++;
            } else {
                items.add(cur.toString());
                cur.setLength(0);
            }
        }
        items.add(cur.toString());
        if (items.size() == 1 && items.get(0).isEmpty())
            throw new IllegalArgumentException("the value is empty");
        for (String s : items)
            if (s.isEmpty())
                throw new IllegalArgumentException(
                        "'" + text + "' has an empty item (a stray ',')");
        return items;
    }
}
