package dev.jvmm.core.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * Newline-delimited UTF-8 lines from a channel, each at most {@code maxBytes} long, so a peer that
 * never sends a newline costs a bounded amount of memory. A trailing {@code \r} is dropped and an
 * unterminated last line before EOF still counts ({@code printf '{...}' | socat - UNIX:...}).
 */
final class LineReader {
    /** The peer sent more than the limit without a newline; the stream cannot be resynchronised. */
    static final class TooLongException extends IOException {
        TooLongException(int max) {
            super("line longer than " + max + " bytes");
        }
    }

    private final ReadableByteChannel in;
    private final int maxBytes;
    private final ByteBuffer buf = ByteBuffer.allocate(8192).flip();
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    LineReader(ReadableByteChannel in, int maxBytes) {
        this.in = in;
        this.maxBytes = maxBytes;
    }

    /** The next line without its terminator, or null at EOF. */
    String next() throws IOException {
        while (true) {
            while (buf.hasRemaining()) {
                byte b = buf.get();
                if (b == '\n') return take();
                if (line.size() == maxBytes) throw new TooLongException(maxBytes);
                line.write(b);
            }
            buf.clear();
            int n = in.read(buf);
            buf.flip();
            if (n < 0) return line.size() > 0 ? take() : null;
        }
    }

    private String take() {
        String s = line.toString(StandardCharsets.UTF_8);
        line.reset();
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }
}
