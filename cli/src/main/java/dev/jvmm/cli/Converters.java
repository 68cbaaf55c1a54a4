package dev.jvmm.cli;

import dev.jvmm.core.JvmmException;
import java.util.function.Function;
import picocli.CommandLine.TypeConversionException;

/**
 * Runs a parser for a picocli converter so that its one-line message is what the user sees: picocli
 * shows any other exception as "cannot convert ... (java.lang.IllegalArgumentException: ...)".
 */
final class Converters {
    private Converters() {}

    static <T> T convert(String value, Function<String, T> parser) {
        try {
            return parser.apply(value);
        } catch (IllegalArgumentException
                | JvmmException e) { // InvalidPathException is an IllegalArgumentException
            throw new TypeConversionException(e.getMessage());
        }
    }
}
