package dev.jvmm.core.device;

import dev.jvmm.core.JvmmException;

/**
 * A device's host side cannot be set up: a tap that cannot be attached, a disk image that cannot be
 * opened. The message is one line naming the tap or file and the reason; the CLI prints it as is.
 */
public final class DeviceException extends JvmmException {
    public DeviceException(String message, Throwable cause) {
        super(Kind.HOST_ERROR, message, cause);
    }
}
