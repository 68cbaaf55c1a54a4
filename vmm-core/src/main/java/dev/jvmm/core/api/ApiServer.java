package dev.jvmm.core.api;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * jvmm's control API ({@code jvmm run --api-socket PATH}): a Unix socket, mode 0600 (only its owner
 * can connect; see {@link ApiSocket}), speaking {@link ControlProtocol}'s JSON lines.
 *
 * <p>Lifecycle: {@link #open} creates the socket before the VM exists, so a bad path is reported
 * before any KVM set-up; {@link #start} begins answering once the VM can be asked (clients that
 * connect earlier wait in the backlog); {@link #close} removes the socket file, and a JVM shutdown
 * hook removes it on exits that skip {@code close} (System.exit, a signal before jvmm's own
 * handlers).
 *
 * <p>Each connection gets its own virtual thread (no native calls here, so virtual threads do not
 * pin carriers). A connection may send any number of requests, but no client can hold the API
 * hostage:
 *
 * <ul>
 *   <li>While the server waits on a client — for a complete request line, or for the client to take
 *       an answer — the wait is bounded by the idle timeout ({@link #IDLE_TIMEOUT} unless {@link
 *       #open(Path, Duration)} says otherwise): a connection that sends nothing, half a line, or
 *       does not read its answers is closed after it (a blank line does not count as a request).
 *   <li>At most {@link #MAX_CLIENTS} connections are held. One more is never turned away: the
 *       server closes the connection it has been waiting on longest and serves the new one. So a
 *       {@code stop} gets through even when every slot is taken by idle clients. (Only a request
 *       inside the target, which is short and must not block, is never interrupted; while all of
 *       them are, the new connection waits for the first to finish.)
 * </ul>
 */
public final class ApiServer implements AutoCloseable {
    public static final int MAX_CLIENTS = 32;

    /**
     * How long the server waits on a client (a request line, or taking an answer) before closing
     * it.
     */
    public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(10);

    private static final System.Logger LOG = System.getLogger("jvmm.api");

    private final ApiSocket socket;
    private final long idleNanos;
    private final Thread cleanupHook;
    private final Set<Connection> clients = ConcurrentHashMap.newKeySet();
    private volatile ControlProtocol protocol;

    /** How long {@link #close} lets answers already being sent reach their clients. */
    private static final long SEND_GRACE_MILLIS = 2000;

    /** Guards {@link #closed} and {@link #inFlight}. */
    private final Object gate = new Object();

    private volatile boolean closed;
    private int inFlight;
    private Thread acceptor;
    private Thread reaper;

    /**
     * One client connection and what the server is doing with it, in one atomic word so that "close
     * it, it has waited too long" and "its request is complete, answer it" cannot both win: {@link
     * #BUSY} while a request is inside the target, {@link #CLOSED} once closed, otherwise the
     * {@link System#nanoTime} at which the server started waiting on the client.
     */
    private static final class Connection {
        static final long BUSY = Long.MIN_VALUE, CLOSED = Long.MIN_VALUE + 1;
        final SocketChannel channel;
        final AtomicLong waitingSince;

        Connection(SocketChannel channel, long now) {
            this.channel = channel;
            this.waitingSince = new AtomicLong(waiting(now));
        }

        /** A nanoTime that happens to equal a marker is moved by one nanosecond. */
        static long waiting(long now) {
            return now == BUSY || now == CLOSED ? CLOSED + 1 : now;
        }

        /**
         * A complete request arrived: true, and it may not be closed for idleness now; false when
         * already closed.
         */
        boolean busy() {
            return waitingSince.getAndUpdate(w -> w == CLOSED ? CLOSED : BUSY) != CLOSED;
        }

        /**
         * The answer is ready: the server waits on the client again, from now. False when closed
         * meanwhile.
         */
        boolean waitFrom(long now) {
            return waitingSince.compareAndSet(BUSY, waiting(now));
        }
    }

    private ApiServer(ApiSocket socket, Duration idleTimeout) {
        if (idleTimeout.isNegative() || idleTimeout.isZero())
            throw new IllegalArgumentException("idle timeout " + idleTimeout);
        this.socket = socket;
        this.idleNanos = idleTimeout.toNanos();
        this.cleanupHook = new Thread(socket::removeFile, "jvmm-api-socket-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanupHook);
    }

    /**
     * Creates the socket at {@code path} (see {@link ApiSocket} for stale and live sockets); not
     * yet answering.
     */
    public static ApiServer open(Path path) throws ApiException {
        return open(path, IDLE_TIMEOUT);
    }

    /**
     * As {@link #open(Path)}, closing a client the server has waited on for {@code idleTimeout}.
     */
    public static ApiServer open(Path path, Duration idleTimeout) throws ApiException {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        return new ApiServer(ApiSocket.create(path), idleTimeout);
    }

    /** The socket's absolute path. */
    public Path path() {
        return socket.path();
    }

    /** Connections currently held (for tests: accepted ones, not those still in the backlog). */
    int connections() {
        return clients.size();
    }

    /** Starts answering requests about {@code target}. */
    public synchronized void start(ControlTarget target) {
        if (acceptor != null) throw new IllegalStateException("already started");
        protocol = new ControlProtocol(Objects.requireNonNull(target, "target"));
        acceptor = Thread.ofVirtual().name("jvmm-api-accept").start(this::acceptLoop);
        reaper = Thread.ofVirtual().name("jvmm-api-idle").start(this::reapLoop);
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel c;
            try {
                c = socket.channel().accept();
            } catch (ClosedChannelException e) { // also AsynchronousCloseException: close() ran
                return;
            } catch (IOException e) {
                if (closed) return;
                // e.g. EMFILE: keep serving the clients we have, try again shortly
                LOG.log(
                        System.Logger.Level.WARNING,
                        "control socket accept failed: " + e.getMessage());
                sleep(100);
                continue;
            }
            // only this thread adds, so once below the cap it stays below until the add
            while (clients.size() >= MAX_CLIENTS && !closed) {
                if (!evictLongestWaiting())
                    sleep(5); // every slot is inside the target: that is short
            }
            Connection conn = new Connection(c, System.nanoTime());
            clients.add(conn);
            if (closed) closeQuietly(c); // close() may have run between accept and add
            Thread.ofVirtual().name("jvmm-api-client").start(() -> serve(conn));
        }
    }

    /** Closes the connection the server has waited on longest; false when none is waiting. */
    private boolean evictLongestWaiting() {
        long now = System.nanoTime();
        Connection oldest = null;
        long oldestWait = -1, oldestSince = 0;
        for (Connection c : clients) {
            long w = c.waitingSince.get();
            if (w == Connection.BUSY || w == Connection.CLOSED) continue;
            if (now - w > oldestWait) {
                oldest = c;
                oldestWait = now - w;
                oldestSince = w;
            }
        }
        if (oldest == null) return false;
        if (drop(oldest, oldestSince)) {
            LOG.log(
                    System.Logger.Level.DEBUG,
                    "control connection closed to make room (idle "
                            + oldestWait / 1_000_000
                            + " ms, "
                            + MAX_CLIENTS
                            + " connections held)");
        }
        return true; // if it changed meanwhile the caller looks again
    }

    /** Closes every connection the server has waited on for longer than the idle timeout. */
    private void reapLoop() {
        long tick = Math.clamp(idleNanos / 4, 10_000_000L, 1_000_000_000L);
        while (!closed) {
            long now = System.nanoTime();
            for (Connection c : clients) {
                long w = c.waitingSince.get();
                if (w != Connection.BUSY
                        && w != Connection.CLOSED
                        && now - w > idleNanos
                        && drop(c, w)) {
                    LOG.log(
                            System.Logger.Level.DEBUG,
                            "control connection closed: idle for more than "
                                    + idleNanos / 1_000_000
                                    + " ms");
                }
            }
            sleep(tick / 1_000_000);
        }
    }

    /**
     * Closes {@code c} if it is still waiting since {@code since}; its thread then sees the channel
     * closed.
     */
    private boolean drop(Connection c, long since) {
        if (!c.waitingSince.compareAndSet(since, Connection.CLOSED)) return false;
        clients.remove(c);
        closeQuietly(c.channel);
        return true;
    }

    private void serve(Connection conn) {
        SocketChannel c = conn.channel;
        try { // not try-with-resources: that would close c before the catch could answer on it
            LineReader in = new LineReader(c, ControlProtocol.MAX_REQUEST_BYTES);
            for (String line; (line = in.next()) != null; ) {
                if (line.isBlank()) continue; // not a request: the idle clock keeps running
                if (!conn.busy()) return; // closed for idleness just as the line completed
                if (!answer(conn, line)) return;
            }
        } catch (LineReader.TooLongException e) {
            try {
                send(c, ControlProtocol.tooLong());
            } catch (IOException ignored) {
                // the client went away; nothing to tell it
            }
        } catch (IOException e) {
            // the client went away, was closed for idleness, or the server is closing
        } finally {
            conn.waitingSince.set(Connection.CLOSED);
            clients.remove(conn);
            closeQuietly(c);
        }
    }

    /**
     * Answers one request and sends the answer, counted as in flight so that {@link #close} waits
     * for both: the VM's memory is unmapped right after close, and a target call must not read it
     * then; and a {@code stop}, whose VM closes the server as soon as it has stopped, must still
     * reach its client. False when the connection was closed meanwhile.
     */
    private boolean answer(Connection conn, String line) throws IOException {
        synchronized (gate) {
            if (closed) {
                send(
                        conn.channel,
                        ControlProtocol.write(ControlProtocol.error("jvmm is shutting down")));
                return true;
            }
            inFlight++;
        }
        try {
            String answer = protocol.answer(line);
            if (!conn.waitFrom(System.nanoTime())) return false;
            send(conn.channel, answer);
            return true;
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

    /**
     * Stops accepting, drops every connection, removes the socket file and waits for requests
     * already inside the target to return (target calls are short and must not block), so the
     * caller may tear the VM down afterwards. Idempotent.
     */
    @Override
    public void close() {
        synchronized (gate) {
            if (closed) return;
            closed = true;
        }
        socket.close();
        awaitInFlight(SEND_GRACE_MILLIS); // answers being sent (a stop's) still reach their clients
        for (Connection c : clients) closeQuietly(c.channel); // also ends a send a client blocks
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupHook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down; the hook's removeFile is a no-op after ours
        }
        Thread a, r;
        synchronized (this) {
            a = acceptor;
            r = reaper;
        }
        boolean interrupted = false;
        try {
            if (a != null) a.join(1000);
            if (r != null) r.interrupt();
        } catch (InterruptedException e) {
            interrupted = true;
        }
        synchronized (gate) {
            while (inFlight > 0) { // target calls are short: wait for them whatever it takes
                try {
                    gate.wait();
                } catch (InterruptedException e) {
                    interrupted =
                            true; // keep waiting: returning now would let the VM be unmapped under
                    // a request
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /**
     * Waits up to {@code millis} for the requests in flight; a client that does not read may hold
     * one.
     */
    private void awaitInFlight(long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        synchronized (gate) {
            for (long left = millis; inFlight > 0 && left > 0; ) {
                try {
                    gate.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                left = (deadline - System.nanoTime()) / 1_000_000;
            }
        }
    }

    private void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            // only close() interrupts (the reaper); the loops check closed
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
