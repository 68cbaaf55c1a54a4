package dev.jvmm.core.api;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** One request/response exchange with a jvmm control socket ({@code jvmm ctl}). */
public final class ApiClient {
    /**
     * jvmm's answers are small (a shared-region page is at most ~32 KiB); this only bounds a peer
     * that is not jvmm.
     */
    private static final int MAX_RESPONSE_BYTES = 16 << 20;

    /** A response as received ({@code raw}, for {@code --json}) and as parsed. */
    public record Response(String raw, Map<String, Object> body) {
        public boolean ok() {
            return Boolean.TRUE.equals(body.get("ok"));
        }

        /** The server's error message ({@code "error"}), or null on success. */
        public String error() {
            Object e = body.get("error");
            return ok()
                    ? null
                    : (e == null ? "the VM answered without an error message" : e.toString());
        }
    }

    private ApiClient() {}

    /**
     * Sends {@code request} as one JSON line and reads one response line. Fails with a one-line
     * {@link ApiException} naming the socket when it cannot be reached, the connection breaks or
     * {@code timeout} passes without an answer (a VM stuck in its own shutdown must not hang a
     * script).
     */
    public static Response exchange(Path socket, Map<String, Object> request, Duration timeout)
            throws ApiException {
        String line;
        try {
            line = JSON.std.asString(request);
        } catch (IOException e) {
            throw new IllegalArgumentException("request is not plain JSON data: " + request, e);
        }
        SocketChannel ch;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        } catch (IOException e) {
            throw new ApiException("cannot create a Unix socket: " + e.getMessage(), e);
        }
        Thread watchdog =
                Thread.ofVirtual()
                        .start(
                                () -> {
                                    try {
                                        Thread.sleep(timeout);
                                        ch.close(); // unblocks connect/read with
                                        // AsynchronousCloseException
                                    } catch (InterruptedException | IOException e) {
                                        // answered in time
                                    }
                                });
        try (ch) {
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
            } catch (AsynchronousCloseException e) {
                throw timedOut(socket, timeout);
            } catch (IOException e) {
                throw new ApiException(
                        "cannot connect to control socket " + socket + ": " + ApiSocket.reason(e),
                        e);
            }
            try {
                ByteBuffer out = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
                while (out.hasRemaining()) ch.write(out);
                String answer = new LineReader(ch, MAX_RESPONSE_BYTES).next();
                if (answer == null)
                    throw new ApiException(
                            "control socket " + socket + " closed without an answer");
                return new Response(answer, JSON.std.mapFrom(answer));
            } catch (AsynchronousCloseException e) {
                throw timedOut(socket, timeout);
            } catch (IOException e) {
                throw new ApiException(
                        "control socket " + socket + ": " + ApiSocket.reason(e).replace('\n', ' '),
                        e);
            }
        } catch (IOException e) {
            throw new ApiException("control socket " + socket + ": " + e.getMessage(), e);
        } finally {
            watchdog.interrupt();
        }
    }

    private static ApiException timedOut(Path socket, Duration timeout) {
        String t =
                timeout.toMillis() % 1000 == 0
                        ? timeout.toSeconds() + " s"
                        : timeout.toMillis() + " ms";
        return new ApiException("control socket " + socket + ": no answer within " + t);
    }
}
