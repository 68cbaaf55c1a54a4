package dev.jvmm.core.virtio.blk;

import dev.jvmm.core.virtio.GuestDriver;
import dev.jvmm.core.virtio.GuestDriver.Buf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Image files and request pieces for the virtio-blk tests. */
final class BlkTestSupport {
    private BlkTestSupport() {}

    /**
     * An image of {@code sectors} sectors where byte i is (i * 7 + i / 512) & 0xff, so every sector
     * differs.
     */
    static Path image(Path dir, int sectors) throws IOException {
        byte[] b = new byte[sectors * 512];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (i * 7 + i / 512);
        Path p = dir.resolve("disk.img");
        Files.write(p, b);
        return p;
    }

    static byte[] header(int type, long sector) {
        return ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(type)
                .putInt(0)
                .putLong(sector)
                .array();
    }

    static Buf header(GuestDriver g, int type, long sector) {
        return g.out(header(type, sector));
    }

    static byte[] pattern(int len, int seed) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) b[i] = (byte) (seed + i * 13);
        return b;
    }

    static int status(GuestDriver g, Buf st) {
        return g.bytes(st)[st.len() - 1] & 0xff;
    }
}
