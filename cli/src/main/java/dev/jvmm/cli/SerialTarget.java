package dev.jvmm.cli;

import java.nio.file.Path;

/** Where the serial console goes: {@code stdio}, {@code file=PATH} or {@code none}. */
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
}
