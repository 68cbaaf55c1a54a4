package dev.jvmm.core.vm;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Passes the serial console through and watches it for the end of a Linux panic report. Debian's
 * kernel has no pvpanic driver and arm64 KVM never raises a crash event for a panic, so the console
 * is the one signal a stock guest gives; waiting for the "end Kernel panic" line keeps the whole
 * report on the console before the VM stops.
 */
final class PanicWatch extends FilterOutputStream {
    static final String END_MARKER = "---[ end Kernel panic - not syncing: ";
    private static final int MAX_LINE = 512;

    private final Runnable onPanic;
    private final StringBuilder line = new StringBuilder();
    private boolean fired;

    PanicWatch(OutputStream out, Runnable onPanic) {
        super(out);
        this.onPanic = onPanic;
    }

    @Override
    public void write(int b) throws IOException {
        out.write(b);
        scan(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        for (int i = 0; i < len; i++) scan(b[off + i]);
    }

    private void scan(int b) {
        if (b == '\n') {
            if (!fired && line.indexOf(END_MARKER) >= 0) {
                fired = true;
                onPanic.run();
            }
            line.setLength(0);
        } else if (line.length() < MAX_LINE) {
            line.append((char) (b & 0xff));
        }
    }

    /** True when the bytes so far contained a finished panic report (for tests). */
    boolean fired() {
        return fired;
    }
}
