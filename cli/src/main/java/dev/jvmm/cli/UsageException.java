package dev.jvmm.cli;

/** Bad user input found after parsing (a file, a value): one line, exit code 2, nothing started. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
