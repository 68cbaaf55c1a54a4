package dev.jvmm.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code jvmm run} options spelled as {@code lkvm run} spells them that have no other jvmm
 * spelling: {@code --nodefaults} and {@code --network mode=none}. The rest of kvmtool's spellings
 * are aliases on jvmm's own options (README, "Coming from kvmtool").
 */
final class KvmtoolOptions {
    boolean nodefaults;

    List<String> network = new ArrayList<>();

    /** Adds these options to {@code spec}, bound to this object's fields. */
    void addOptions(CommandSpec spec) {
        spec.addOption(
                CliModel.flag(
                        () -> this.nodefaults,
                        v -> this.nodefaults = v,
                        OptionSpec.builder("--nodefaults")
                                .description(
                                        "Add nothing to the kernel command line: the guest gets --params byte for byte, an empty"
                                                + " line too (for bare-metal programs that parse it). The machine is the same: the"
                                                + " console device is still there, and /chosen/stdout-path names it.")));
        spec.addOption(
                CliModel.list(
                        String.class,
                        () -> this.network,
                        v -> this.network = v,
                        OptionSpec.builder("-n", "--network")
                                .paramLabel("mode=none")
                                .converters(new NetworkModeConverter())
                                .description(
                                        "kvmtool's 'no default NIC': accepted, and nothing to do, since jvmm adds no NIC"
                                                + " of its own; NICs are --net tap=NAME, created as asked also with this"
                                                + " (as kvmtool creates its -n NICs). kvmtool's other modes are not offered.")));
    }

    /**
     * Only {@code mode=none} has a meaning here; for kvmtool's NIC modes the message says what jvmm
     * offers instead.
     */
    static String networkMode(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("mode=none")) return "none";
        if (v.startsWith("mode=tap")) {
            throw new IllegalArgumentException(
                    "'"
                            + value
                            + "': jvmm's tap NIC is --net tap=NAME[,mac=MAC] (jvmm opens or creates the"
                            + " tap itself and runs no ifup script)");
        }
        if (v.startsWith("mode=user")) {
            throw new IllegalArgumentException(
                    "'"
                            + value
                            + "': jvmm has no user-mode networking; use --net tap=NAME[,mac=MAC] on a"
                            + " tap the host bridges or routes");
        }
        throw new IllegalArgumentException(
                "'" + value + "' is not mode=none (jvmm's NICs are --net tap=NAME[,mac=MAC])");
    }

    static final class NetworkModeConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            try {
                return networkMode(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
