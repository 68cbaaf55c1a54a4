package dev.jvmm.core.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The device tree's seeds come from the host's random source, or SecureRandom without it. */
class HostRandomTest {
    @Test
    void bytesAndLongsAreWhatTheSourceHolds(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("random");
        Files.write(f, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        HostRandom r = new HostRandom(f.toString());
        assertEquals(0x0102030405060708L, r.nextLong());
        byte[] b = new byte[3];
        r.nextBytes(b);
        assertArrayEquals(new byte[] {1, 2, 3}, b); // each call reads the source afresh
    }

    @Test
    void aShortOrMissingSourceFallsBackToSecureRandom(@TempDir Path dir) throws Exception {
        Path shortFile = dir.resolve("short");
        Files.write(shortFile, new byte[] {1, 2});
        byte[] a = new byte[64], b = new byte[64];
        new HostRandom(shortFile.toString()).nextBytes(a);
        new HostRandom(dir.resolve("missing").toString()).nextBytes(b);
        assertNotEquals(0, a[10] | a[20] | a[30] | a[40] | a[50] | a[60]);
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b));
    }

    @Test
    void twoBuildersGetDifferentSeedsFromTheHost() {
        assertNotEquals(new HostRandom().nextLong(), new HostRandom().nextLong());
    }
}
