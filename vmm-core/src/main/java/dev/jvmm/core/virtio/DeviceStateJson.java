package dev.jvmm.core.virtio;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.StateJson;
import java.io.IOException;
import java.util.Map;

/**
 * A device's own state record nested in the transport's record as a JSON object: the transport does
 * not know the device's record type at compile time, so it carries the object and the device names
 * the type ({@link VirtioDevice#deviceStateType}) when it is read back.
 */
final class DeviceStateJson {
    private DeviceStateJson() {}

    static Map<String, Object> toMap(Record state) {
        if (state == null) return null;
        try {
            return JSON.std.mapFrom(StateJson.write(state));
        } catch (IOException e) {
            throw new IllegalStateException("device state does not read back as JSON", e);
        }
    }

    static <S extends Record> S fromMap(Map<String, Object> map, Class<S> type, String part) {
        S bound = StateJson.bind(map, type); // no text round trip when it fits exactly
        if (bound != null) return bound;
        try {
            return StateJson.read(JSON.std.asString(map), type, part + " device");
        } catch (IOException e) {
            throw SnapshotException.invalid(part, "device: " + e.getMessage());
        }
    }
}
