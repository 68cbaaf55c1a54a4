package dev.jvmm.core.api;

/**
 * The control socket cannot be created, served or reached. The message is one line that names the
 * socket path and the reason (errno text), fit to print as it is.
 */
public final class ApiException extends Exception {
    public ApiException(String message) {
        super(message);
    }

    public ApiException(String message, Throwable cause) {
        super(message, cause);
    }
}
