package dev.jvmm.core.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server over a real Unix socket in a temp directory, against {@link FakeTarget}. */
class ApiServerTest {
    private static final Duration T = Duration.ofSeconds(10);
    private static final String STATUS =
            "{\"ok\":true,\"state\":\"running\",\"cpus\":2,\"memory_bytes\":268435456,"
                    + "\"uptime_ms\":1500,\"pid\":4242,\"kernel\":\"/images/Image\"}";

    @TempDir Path dir;
    private final FakeTarget target = new FakeTarget();
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    private ApiServer serve(Path path) throws ApiException {
        return serve(path, ApiServer.IDLE_TIMEOUT);
    }

    private ApiServer serve(Path path, Duration idleTimeout) throws ApiException {
        ApiServer s = ApiServer.open(path, idleTimeout);
        open.add(s);
        s.start(target);
        return s;
    }

    private static ApiClient.Response ask(Path socket, String command) throws ApiException {
        return ApiClient.exchange(socket, Map.of("command", command), T);
    }

    private SocketChannel connect(Path socket) throws IOException {
        SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        open.add(c);
        return c;
    }

    private static void send(SocketChannel c, String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) c.write(b);
    }

    private static String readLine(SocketChannel c) throws IOException {
        return new LineReader(c, 1 << 20).next();
    }

    @Test
    void everyCommandAnswersOverTheSocket() throws Exception {
        Path sock = dir.resolve("api.sock");
        serve(sock);
        assertEquals(STATUS, ask(sock, "status").raw());
        assertEquals(
                "{\"ok\":true,\"regions\":[{\"ipa\":2147483648,\"size\":4096},{\"ipa\":2148532224,\"size\":12288}],"
                        + "\"total_regions\":2,\"total_bytes\":16384}",
                ask(sock, "shared-regions").raw());
        assertEquals(
                "{\"ok\":true,\"vcpus\":[{\"cpu\":0,\"stolen_ns\":1234},{\"cpu\":1,\"stolen_ns\":0}]}",
                ask(sock, "stolen-time").raw());
        assertEquals(
                "{\"ok\":true,\"calls\":[{\"function_id\":3288334369,\"name\":\"SDEI_EVENT_SIGNAL\",\"count\":3},"
                        + "{\"function_id\":3321888834,\"count\":1}],\"other_calls\":7}",
                ask(sock, "hypercall-stats").raw());
        ApiClient.Response sdei =
                ApiClient.exchange(sock, Map.of("command", "sdei-signal", "event", 0, "cpu", 1), T);
        assertEquals("{\"ok\":true,\"event\":0,\"cpu\":1}", sdei.raw());
        assertEquals(List.of("0@1"), target.signals);
        ApiClient.Response stop = ask(sock, "stop");
        assertEquals("{\"ok\":true,\"state\":\"stopping\"}", stop.raw());
        assertTrue(stop.ok());
        assertEquals(1, target.stops.get());
    }

    @Test
    void aStopIsAnsweredEvenWhenTheServerIsClosedWhileItIsBeingAnswered() throws Exception {
        Path sock = dir.resolve("api.sock");
        ApiServer s = serve(sock);
        target.onStop =
                () -> { // as jvmm's main thread does once the VM has stopped
                    new Thread(s::close).start();
                    try {
                        Thread.sleep(300);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                };
        assertEquals("{\"ok\":true,\"state\":\"stopping\"}", ask(sock, "stop").raw());
    }

    @Test
    void errorResponsesKeepTheServerRunning() throws Exception {
        Path sock = dir.resolve("api.sock");
        serve(sock);
        ApiClient.Response r = ask(sock, "fly");
        assertFalse(r.ok());
        assertEquals(
                "unknown command \"fly\" (one of: status, stop, pause, resume, snapshot, sdei-signal, shared-regions, stolen-time, "
                        + "hypercall-stats)",
                r.error());
        SocketChannel c = connect(sock);
        send(c, "this is not json\n");
        assertTrue(readLine(c).startsWith("{\"ok\":false,\"error\":\"malformed JSON at column "));
        send(c, "{\"command\":\"status\"}\n"); // the same connection still works
        assertEquals(STATUS, readLine(c));
        assertEquals(STATUS, ask(sock, "status").raw());
    }

    @Test
    void socketIsOwnerOnlyAndNothingElseIsLeftInTheDirectory() throws Exception {
        Path sock = dir.resolve("api.sock");
        ApiServer s = serve(sock);
        assertEquals(sock, s.path());
        assertEquals(
                "rw-------",
                PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(sock, LinkOption.NOFOLLOW_LINKS)));
        int mode = (Integer) Files.getAttribute(sock, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        assertEquals(0140000, mode & 0170000, "a socket");
        try (var files = Files.list(dir)) {
            assertEquals(List.of(sock), files.toList(), "the private bind directory is gone");
        }
    }

    @Test
    void staleSocketIsReplaced() throws Exception {
        Path sock = dir.resolve("api.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(sock));
        }
        assertTrue(
                Files.exists(sock, LinkOption.NOFOLLOW_LINKS),
                "closing leaves the file behind, like a crashed jvmm");
        serve(sock);
        assertEquals(STATUS, ask(sock, "status").raw());
        assertEquals(
                "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
    }

    @Test
    void liveSocketIsRefusedAndKeepsWorking() throws Exception {
        Path sock = dir.resolve("api.sock");
        serve(sock);
        ApiException e = assertThrows(ApiException.class, () -> ApiServer.open(sock));
        assertEquals(
                sock + ": another process is serving this socket (another jvmm?); not replacing it",
                e.getMessage());
        assertEquals(STATUS, ask(sock, "status").raw());
    }

    @Test
    void otherFilesAreNotReplaced() throws Exception {
        Path file = Files.writeString(dir.resolve("notes.txt"), "keep me");
        ApiException e = assertThrows(ApiException.class, () -> ApiServer.open(file));
        assertEquals(file + ": exists and is not a socket; not replacing it", e.getMessage());
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void missingDirectoryIsOneLine() {
        Path sock = dir.resolve("no/such/dir/api.sock");
        ApiException e = assertThrows(ApiException.class, () -> ApiServer.open(sock));
        assertEquals(
                sock + ": directory " + dir.resolve("no/such/dir") + " does not exist",
                e.getMessage());
    }

    /** /proc refuses mkdir even for root, so this runs whoever runs the tests. */
    @Test
    void unwritableDirectoryIsOneLine() {
        Path sock = Path.of("/proc/jvmm-api-test.sock");
        ApiException e = assertThrows(ApiException.class, () -> ApiServer.open(sock));
        assertTrue(
                e.getMessage().startsWith(sock + ": cannot create a socket in /proc: "),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void overlongPathIsOneLine() {
        Path sock = dir.resolve("s".repeat(120));
        ApiException e = assertThrows(ApiException.class, () -> ApiServer.open(sock));
        int n = sock.toString().length();
        assertEquals(
                sock
                        + ": path too long for a Unix socket ("
                        + n
                        + " bytes, at most 107); use a shorter directory",
                e.getMessage());
    }

    @Test
    void closeRemovesTheSocket() throws Exception {
        Path sock = dir.resolve("api.sock");
        ApiServer s = serve(sock);
        SocketChannel idle = connect(sock);
        s.close();
        assertFalse(Files.exists(sock, LinkOption.NOFOLLOW_LINKS));
        // an accepted connection sees EOF; one still in the backlog when the listener closed sees a
        // reset
        try {
            assertEquals(null, readLine(idle), "open connections are closed");
        } catch (java.net.SocketException reset) {
            assertEquals("Connection reset", reset.getMessage());
        }
        ApiException e = assertThrows(ApiException.class, () -> ask(sock, "status"));
        assertEquals(
                "cannot connect to control socket " + sock + ": No such file or directory",
                e.getMessage());
        s.close(); // idempotent
    }

    @Test
    void closeWaitsForARequestInsideTheTarget() throws Exception {
        Path sock = dir.resolve("api.sock");
        ApiServer s = serve(sock);
        target.hold = new java.util.concurrent.CountDownLatch(1);
        SocketChannel c = connect(sock);
        send(c, "{\"command\":\"status\"}\n");
        assertTrue(target.entered.await(10, java.util.concurrent.TimeUnit.SECONDS));
        Thread closer = Thread.ofPlatform().start(s::close);
        closer.join(300);
        assertTrue(
                closer.isAlive(), "close() returned while a request was still inside the target");
        target.hold.countDown();
        closer.join(10_000);
        assertFalse(closer.isAlive(), "close() did not return after the request finished");
        assertFalse(Files.exists(sock, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void closeLeavesAFileThatIsNotOurSocket() throws Exception {
        Path sock = dir.resolve("api.sock");
        ApiServer s = serve(sock);
        Files.delete(sock);
        Files.writeString(sock, "someone else's");
        s.close();
        assertEquals("someone else's", Files.readString(sock));
    }

    @Test
    void closeWithoutStartRemovesTheSocket() throws Exception {
        Path sock = dir.resolve("api.sock");
        ApiServer s = ApiServer.open(sock);
        assertTrue(Files.exists(sock, LinkOption.NOFOLLOW_LINKS));
        s.close();
        assertFalse(Files.exists(sock, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void clientsThatConnectBeforeStartAreAnsweredOnceStarted() throws Exception {
        Path sock = dir.resolve("api.sock");
        ApiServer s = ApiServer.open(sock);
        open.add(s);
        SocketChannel early = connect(sock);
        send(early, "{\"command\":\"status\"}\n");
        s.start(target);
        assertEquals(STATUS, readLine(early));
    }

    @Test
    void aSilentClientDoesNotBlockOthers() throws Exception {
        Path sock = dir.resolve("api.sock");
        serve(sock);
        connect(sock);
        SocketChannel half = connect(sock);
        send(half, "{\"command\":"); // half a request, then nothing
        assertEquals(STATUS, ask(sock, "status").raw());
    }

    @Test
    void severalRequestsOnOneConnectionWithBlankLinesAndCrlf() throws Exception {
        Path sock = dir.resolve("api.sock");
        serve(sock);
        SocketChannel c = connect(sock);
        send(
                c,
                "{\"command\":\"status\"}\r\n\n  \n{\"command\":\"sdei-signal\",\"event\":5,\"cpu\":0}\n");
        LineReader in = new LineReader(c, 1 << 20);
        assertEquals(STATUS, in.next());
        assertEquals("{\"ok\":true,\"event\":5,\"cpu\":0}", in.next());
    }

    @Test
    void unterminatedRequestBeforeEofIsAnswered() throws Exception {
        Path sock = dir.resolve("api.sock");
        serve(sock);
        SocketChannel c = connect(sock);
        send(c, "{\"command\":\"status\"}");
        c.shutdownOutput();
        assertEquals(STATUS, readLine(c));
    }

    @Test
    void oversizedRequestIsRefusedAndTheServerKeepsRunning() throws Exception {
        Path sock = dir.resolve("api.sock");
        serve(sock);
        SocketChannel c = connect(sock);
        // exactly the limit is fine (it is a malformed request, but it is read) ...
        send(c, " ".repeat(ControlProtocol.MAX_REQUEST_BYTES - 20) + "{\"command\":\"status\"}\n");
        assertEquals(STATUS, readLine(c));
        // ... one byte more is not
        send(c, "x".repeat(ControlProtocol.MAX_REQUEST_BYTES + 1));
        LineReader in = new LineReader(c, 1 << 20);
        assertEquals("{\"ok\":false,\"error\":\"request longer than 65536 bytes\"}", in.next());
        assertEquals(
                null, in.next(), "the connection is closed: the stream cannot be resynchronised");
        assertEquals(STATUS, ask(sock, "status").raw());
    }

    @Test
    void concurrentClientsAllGetTheirOwnAnswers() throws Exception {
        Path sock = dir.resolve("api.sock");
        serve(sock);
        int clients = 8, each = 25;
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < clients; t++) {
                int cpu = t;
                done.add(
                        pool.submit(
                                () -> {
                                    for (int i = 0; i < each; i++) {
                                        ApiClient.Response r =
                                                ApiClient.exchange(
                                                        sock,
                                                        Map.of(
                                                                "command",
                                                                "sdei-signal",
                                                                "event",
                                                                i,
                                                                "cpu",
                                                                cpu),
                                                        T);
                                        assertEquals(
                                                "{\"ok\":true,\"event\":"
                                                        + i
                                                        + ",\"cpu\":"
                                                        + cpu
                                                        + "}",
                                                r.raw());
                                        assertEquals(STATUS, ask(sock, "status").raw());
                                    }
                                    return null;
                                }));
            }
            for (Future<?> f : done) f.get();
        }
        assertEquals(clients * each, target.signals.size());
        for (int t = 0; t < clients; t++) {
            for (int i = 0; i < each; i++)
                assertTrue(target.signals.contains(i + "@" + t), i + "@" + t);
        }
    }

    /**
     * Waits until the server holds {@code n} connections (accepted, not just queued in the
     * backlog).
     */
    private static void awaitConnections(ApiServer s, int n) throws InterruptedException {
        long deadline = System.nanoTime() + T.toNanos();
        while (s.connections() != n) {
            assertTrue(
                    System.nanoTime() < deadline,
                    "server holds " + s.connections() + " connections, expected " + n);
            Thread.sleep(10);
        }
    }

    /** Issue 11: 32 idle clients used to take every slot, and `jvmm ctl stop` was turned away. */
    @Test
    void stopGetsThroughWhenIdleClientsHoldEverySlot() throws Exception {
        Path sock = dir.resolve("api.sock");
        ApiServer s = serve(sock);
        for (int i = 0; i < ApiServer.MAX_CLIENTS; i++) connect(sock); // connect and never send
        awaitConnections(s, ApiServer.MAX_CLIENTS);
        long t0 = System.nanoTime();
        ApiClient.Response r = ask(sock, "stop");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals("{\"ok\":true,\"state\":\"stopping\"}", r.raw());
        assertEquals(1, target.stops.get());
        assertTrue(ms < 2000, "stop took " + ms + " ms");
        assertTrue(
                s.connections() <= ApiServer.MAX_CLIENTS,
                "still at most the cap: " + s.connections());
    }

    @Test
    void aConnectionBeyondTheLimitEvictsTheLongestIdleOne() throws Exception {
        Path sock = dir.resolve("api.sock");
        ApiServer s = serve(sock);
        List<SocketChannel> held = new ArrayList<>();
        for (int i = 0; i < ApiServer.MAX_CLIENTS; i++) {
            SocketChannel c = connect(sock);
            send(c, "{\"command\":\"status\"}\n");
            assertEquals(
                    STATUS,
                    readLine(c)); // answered in this order, so the first has been idle longest
            held.add(c);
        }
        SocketChannel late = connect(sock);
        send(late, "{\"command\":\"status\"}\n");
        assertEquals(STATUS, readLine(late));
        assertEquals(null, readLine(held.getFirst()), "the longest-idle connection was closed");
        for (SocketChannel c : held.subList(1, held.size())) {
            send(c, "{\"command\":\"status\"}\n");
            assertEquals(STATUS, readLine(c), "the others keep working");
        }
        assertEquals(ApiServer.MAX_CLIENTS, s.connections());
    }

    @Test
    void aHalfLineClientIsClosedAfterTheIdleTimeout() throws Exception {
        Path sock = dir.resolve("api.sock");
        ApiServer s = serve(sock, Duration.ofMillis(200));
        SocketChannel half = connect(sock);
        long t0 = System.nanoTime();
        send(half, "{\"command\":"); // half a request, then nothing
        assertTimeoutPreemptively(
                Duration.ofSeconds(5), () -> assertEquals(null, readLine(half), "closed"));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 150, "closed after " + ms + " ms, before the timeout");
        awaitConnections(s, 0);
    }

    @Test
    void aSilentClientIsClosedAfterTheIdleTimeoutAndOneThatAsksInTimeIsNot() throws Exception {
        Path sock = dir.resolve("api.sock");
        ApiServer s = serve(sock, Duration.ofMillis(300));
        SocketChannel silent = connect(sock);
        SocketChannel busy = connect(sock);
        for (int i = 0;
                i < 8;
                i++) { // 8 requests 100 ms apart: 800 ms in all, each within the timeout
            send(busy, "{\"command\":\"status\"}\n");
            assertEquals(STATUS, readLine(busy));
            Thread.sleep(100);
        }
        assertTimeoutPreemptively(
                Duration.ofSeconds(5), () -> assertEquals(null, readLine(silent), "closed"));
        assertTimeoutPreemptively(
                Duration.ofSeconds(5),
                () -> assertEquals(null, readLine(busy), "closed once it stops asking"));
        awaitConnections(s, 0);
        assertEquals(STATUS, ask(sock, "status").raw(), "the server keeps serving");
    }

    @Test
    void aClientThatNeverReadsItsAnswersIsClosedAfterTheIdleTimeout() throws Exception {
        Path sock = dir.resolve("api.sock");
        ApiServer s = serve(sock, Duration.ofMillis(300));
        SocketChannel greedy = connect(sock);
        byte[] requests =
                "{\"command\":\"status\"}\n".repeat(1000).getBytes(StandardCharsets.UTF_8);
        // requests pile up answers the client never takes, until the server's writes block
        Thread writer =
                Thread.ofPlatform()
                        .start(
                                () -> {
                                    try {
                                        while (true) greedy.write(ByteBuffer.wrap(requests));
                                    } catch (IOException closedByTheServer) {
                                        // EPIPE or reset once the server gave up on it
                                    }
                                });
        awaitConnections(s, 1);
        writer.join(T.toMillis());
        assertFalse(writer.isAlive(), "the server never closed a client that does not read");
        awaitConnections(s, 0);
        assertEquals(STATUS, ask(sock, "status").raw());
    }

    @Test
    void clientGivesUpOnASilentServer() throws Exception {
        Path sock = dir.resolve("mute.sock");
        try (ServerSocketChannel mute = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            mute.bind(UnixDomainSocketAddress.of(sock));
            ApiException e =
                    assertThrows(
                            ApiException.class,
                            () ->
                                    ApiClient.exchange(
                                            sock,
                                            Map.of("command", "status"),
                                            Duration.ofMillis(300)));
            assertEquals("control socket " + sock + ": no answer within 300 ms", e.getMessage());
        }
    }

    @Test
    void clientReportsAStaleSocket() throws Exception {
        Path sock = dir.resolve("stale.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(sock));
        }
        ApiException e = assertThrows(ApiException.class, () -> ask(sock, "status"));
        assertEquals(
                "cannot connect to control socket " + sock + ": Connection refused",
                e.getMessage());
    }
}
