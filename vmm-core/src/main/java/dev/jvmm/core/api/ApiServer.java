package dev.jvmm.core.api;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * jvmm's control API ({@code jvmm run --api-socket PATH}): a Unix socket, mode 0600 (only its owner
 * can connect; see {@link ApiSocket}), speaking {@link ControlProtocol}'s JSON lines.
 *
 * <p>Lifecycle: {@link #open} creates the socket before the VM exists, so a bad path is reported
 * before any KVM set-up; {@link #start} begins answering once the VM can be asked (clients that
 * connect earlier wait in the backlog); {@link #close} removes the socket file, and a JVM shutdown
 * hook removes it on exits that skip {@code close} (System.exit, a signal before jvmm's own handlers).
 *
 * <p>Each connection gets its own virtual thread (no native calls here, so virtual threads do not pin
 * carriers), so a client that connects and never sends only holds its own thread. Connections beyond
 * {@link #MAX_CLIENTS} get an error line and are closed. A connection may send any number of requests.
 */
public final class ApiServer implements AutoCloseable {
    public static final int MAX_CLIENTS = 32;
    private static final System.Logger LOG = System.getLogger("jvmm.api");

    private final ApiSocket socket;
    private final Thread cleanupHook;
    private final Set<SocketChannel> clients = ConcurrentHashMap.newKeySet();
    private volatile ControlProtocol protocol;
    /** Guards {@link #closed} and {@link #inFlight}. */
    private final Object gate = new Object();
    private volatile boolean closed;
    private int inFlight;
    private Thread acceptor;

    private ApiServer(ApiSocket socket) {
        this.socket = socket;
        this.cleanupHook = new Thread(socket::removeFile, "jvmm-api-socket-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanupHook);
    }

    /** Creates the socket at {@code path} (see {@link ApiSocket} for stale and live sockets); not yet answering. */
    public static ApiServer open(Path path) throws ApiException {
        return new ApiServer(ApiSocket.create(path));
    }

    /** The socket's absolute path. */
    public Path path() {
        return socket.path();
    }

    /** Starts answering requests about {@code target}. */
    public synchronized void start(ControlTarget target) {
        if (acceptor != null) throw new IllegalStateException("already started");
        protocol = new ControlProtocol(Objects.requireNonNull(target, "target"));
        acceptor = Thread.ofVirtual().name("jvmm-api-accept").start(this::acceptLoop);
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel c;
            try {
                c = socket.channel().accept();
            } catch (ClosedChannelException e) {   // also AsynchronousCloseException: close() ran
                return;
            } catch (IOException e) {
                if (closed) return;
                // e.g. EMFILE: keep serving the clients we have, try again shortly
                LOG.log(System.Logger.Level.WARNING, "control socket accept failed: " + e.getMessage());
                sleepBriefly();
                continue;
            }
            if (clients.size() >= MAX_CLIENTS) {
                reject(c, "too many control connections (at most " + MAX_CLIENTS + ")");
                continue;
            }
            clients.add(c);
            if (closed) closeQuietly(c);  // close() may have run between accept and add
            Thread.ofVirtual().name("jvmm-api-client").start(() -> serve(c));
        }
    }

    private void serve(SocketChannel c) {
        try { // not try-with-resources: that would close c before the catch could answer on it
            LineReader in = new LineReader(c, ControlProtocol.MAX_REQUEST_BYTES);
            for (String line; (line = in.next()) != null; ) {
                if (line.isBlank()) continue;
                send(c, answer(line));
            }
        } catch (LineReader.TooLongException e) {
            try {
                send(c, ControlProtocol.tooLong());
            } catch (IOException ignored) {
                // the client went away; nothing to tell it
            }
        } catch (IOException e) {
            // the client went away or the server is closing
        } finally {
            clients.remove(c);
            closeQuietly(c);
        }
    }

    /**
     * Counts the request as in flight so that {@link #close} can wait for it: the VM's memory is
     * unmapped right after close, and a target call must not read it then.
     */
    private String answer(String line) {
        synchronized (gate) {
            if (closed) return ControlProtocol.write(ControlProtocol.error("jvmm is shutting down"));
            inFlight++;
        }
        try {
            return protocol.answer(line);
        } finally {
            synchronized (gate) {
                if (--inFlight == 0) gate.notifyAll();
            }
        }
    }

    private static void send(SocketChannel c, String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) c.write(b);
    }

    private static void reject(SocketChannel c, String message) {
        try (c) {
            send(c, ControlProtocol.write(ControlProtocol.error(message)));
        } catch (IOException ignored) {
            // it is being turned away anyway
        }
    }

    /**
     * Stops accepting, drops every connection, removes the socket file and waits for requests already
     * inside the target to return (target calls are short and must not block), so the caller may tear
     * the VM down afterwards. Idempotent.
     */
    @Override
    public void close() {
        synchronized (gate) {
            if (closed) return;
            closed = true;
        }
        socket.close();
        for (SocketChannel c : clients) closeQuietly(c);
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupHook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down; the hook's removeFile is a no-op after ours
        }
        Thread a;
        synchronized (this) {
            a = acceptor;
        }
        boolean interrupted = false;
        try {
            if (a != null) a.join(1000);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        synchronized (gate) {
            while (inFlight > 0) {
                try {
                    gate.wait();
                } catch (InterruptedException e) {
                    interrupted = true;  // keep waiting: returning now would let the VM be unmapped under a request
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing is best effort
        }
    }
}
