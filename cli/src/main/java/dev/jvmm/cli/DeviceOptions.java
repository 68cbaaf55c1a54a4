package dev.jvmm.cli;

import dev.jvmm.core.JvmmException;
import dev.jvmm.core.net.MacAddress;
import dev.jvmm.core.vm.DiskConfig;
import dev.jvmm.core.vm.NetConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Converters for {@code --disk} and {@code --net}; picocli turns their messages into one-line usage
 * errors (exit 2).
 */
final class DeviceOptions {
    static final String DISK_SYNTAX = "path=FILE[,ro=on]";
    static final String NET_SYNTAX = "tap=NAME[,mac=XX:XX:XX:XX:XX:XX]";

    private DeviceOptions() {}

    /** {@code path=FILE[,ro=on|off]}, or just {@code FILE}. */
    static DiskConfig disk(String text) {
        try {
            Map<String, String> kv = KeyValues.parse(text, List.of("path", "ro"), "path");
            String path = kv.get("path");
            if (path == null)
                throw new IllegalArgumentException("'" + text + "' names no file (path=FILE)");
            boolean ro = kv.containsKey("ro") && KeyValues.onOff("ro", kv.get("ro"));
            return new DiskConfig(Path.of(path), ro);
        } catch (IllegalArgumentException | JvmmException e) { // InvalidPathException included
            throw new TypeConversionException(e.getMessage());
        }
    }

    /** {@code tap=NAME[,mac=MAC]}, or just {@code NAME}. */
    static NetConfig net(String text) {
        try {
            Map<String, String> kv = KeyValues.parse(text, List.of("tap", "mac"), "tap");
            String tap = kv.get("tap");
            if (tap == null)
                throw new IllegalArgumentException(
                        "'" + text + "' names no tap interface (tap=NAME)");
            return kv.containsKey("mac")
                    ? new NetConfig(tap, MacAddress.parse(kv.get("mac")))
                    : NetConfig.withDerivedMac(tap);
        } catch (IllegalArgumentException | JvmmException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    static final class DiskConverter implements ITypeConverter<DiskConfig> {
        @Override
        public DiskConfig convert(String value) {
            return disk(value);
        }
    }

    static final class NetConverter implements ITypeConverter<NetConfig> {
        @Override
        public NetConfig convert(String value) {
            return net(value);
        }
    }
}
