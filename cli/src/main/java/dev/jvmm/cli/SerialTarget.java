package dev.jvmm.cli;

import java.nio.file.Path;

/**
 * Where the serial console goes: {@code stdio}, {@code file=PATH} or {@code none}. {@link
 * #toString} is written out: picocli prints the default while parsing every {@code run}, and a
 * record's generated one spins method-handle classes on its first call (issue 12).
 */
record SerialTarget(Kind kind, Path file) {
    enum Kind {
        STDIO,
        FILE,
        NONE
    }

    static SerialTarget parse(String text) {
        if (text.equals("stdio")) return new SerialTarget(Kind.STDIO, null);
        if (text.equals("none")) return new SerialTarget(Kind.NONE, null);
        if (text.startsWith("file=") && text.length() > 5)
            return new SerialTarget(Kind.FILE, Path.of(text.substring(5)));
        throw new IllegalArgumentException(
                "'" + text + "' is not a serial target (stdio, file=PATH or none)");
    }

    /** What {@link #parse} reads back: {@code stdio}, {@code none} or {@code file=PATH}. */
    @Override
    public String toString() {
        return switch (kind) {
            case STDIO -> "stdio";
            case NONE -> "none";
            case FILE -> "file=" + file;
        };
    }
}
