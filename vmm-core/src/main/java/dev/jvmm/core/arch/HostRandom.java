package dev.jvmm.core.arch;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.random.RandomGenerator;

/**
 * The guest's rng-seed and kaslr-seed straight from the host kernel's {@code /dev/urandom}, which
 * is what {@link SecureRandom}'s default (NativePRNG) reads on Linux too, without initialising the
 * JDK's security providers first (15 of a boot's 485 main-thread samples before the vCPUs started,
 * JFR in the lab; issue 12). Where {@code /dev/urandom} cannot be read, {@link SecureRandom} serves
 * instead.
 */
final class HostRandom implements RandomGenerator {
    static final String SOURCE = "/dev/urandom";

    private final String source;
    private RandomGenerator fallback;

    HostRandom() {
        this(SOURCE);
    }

    /** Reads {@code source} instead (a test's file). */
    HostRandom(String source) {
        this.source = source;
    }

    @Override
    public void nextBytes(byte[] bytes) {
        if (fallback == null) {
            try (InputStream in = new FileInputStream(source)) {
                if (in.readNBytes(bytes, 0, bytes.length) == bytes.length) return;
            } catch (IOException e) {
                // below
            }
            fallback = new SecureRandom();
        }
        fallback.nextBytes(bytes);
    }

    @Override
    public long nextLong() {
        byte[] b = new byte[Long.BYTES];
        nextBytes(b);
        return ByteBuffer.wrap(b).getLong();
    }
}
