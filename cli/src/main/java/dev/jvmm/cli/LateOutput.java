package dev.jvmm.cli;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The console stream handed to the VM before its target is opened: the serial file may only be
 * created or truncated once every input is validated and every disk is locked, which is after the
 * VM is built. Nothing is written before {@link #open}: no vCPU runs until then.
 */
final class LateOutput extends OutputStream {
    private volatile OutputStream target;

    void open(OutputStream out) {
        if (target != null) throw new IllegalStateException("console output opened twice");
        target = out;
    }

    private OutputStream target() throws IOException {
        OutputStream t = target;
        if (t == null) throw new IOException("console output is not open yet");
        return t;
    }

    @Override
    public void write(int b) throws IOException {
        target().write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        target().write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
        OutputStream t = target;
        if (t != null) t.flush();
    }

    @Override
    public void close() throws IOException {
        OutputStream t = target;
        if (t != null) t.close();
    }
}
