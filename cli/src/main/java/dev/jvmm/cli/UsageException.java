package dev.jvmm.cli;

import dev.jvmm.core.JvmmException;

/** Bad user input found after parsing (a file, a value): one line, exit code 2, nothing started. */
public final class UsageException extends JvmmException {
    public UsageException(String message) {
        super(Kind.USAGE, message);
    }
}
