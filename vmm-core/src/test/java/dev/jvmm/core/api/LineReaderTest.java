package dev.jvmm.core.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LineReaderTest {
    private static LineReader reader(String s, int max) {
        return new LineReader(
                Channels.newChannel(new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8))),
                max);
    }

    @Test
    void splitsOnNewlinesDropsCrAndKeepsAnUnterminatedLastLine() throws IOException {
        LineReader r = reader("a\r\n\nbc\nü-tail", 16);
        assertEquals("a", r.next());
        assertEquals("", r.next());
        assertEquals("bc", r.next());
        assertEquals("ü-tail", r.next());
        assertEquals(null, r.next());
    }

    @Test
    void aLineOfExactlyTheLimitIsReadOneMoreIsNot() throws IOException {
        assertEquals("x".repeat(8), reader("x".repeat(8) + "\n", 8).next());
        LineReader.TooLongException e =
                assertThrows(
                        LineReader.TooLongException.class,
                        () -> reader("x".repeat(9) + "\n", 8).next());
        assertEquals("line longer than 8 bytes", e.getMessage());
    }

    @Test
    void linesLongerThanTheReadBufferAreJoined() throws IOException {
        String big = "y".repeat(20_000);
        LineReader r = reader(big + "\nz\n", 32_000);
        assertEquals(big, r.next());
        assertEquals("z", r.next());
    }
}
