package dev.jvmm.core.vm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

/**
 * A gzip'd newc cpio archive of a few files, for appending to an initramfs: Linux unpacks every
 * archive of a concatenated initrd, so a test can add a file without rebuilding the image.
 */
final class NewcCpio {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int ino = 1;

    NewcCpio directory(String path) {
        entry(path, 0040755, new byte[0]);
        return this;
    }

    NewcCpio file(String path, byte[] data) {
        entry(path, 0100644, data);
        return this;
    }

    private void entry(String name, int mode, byte[] data) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        String header =
                String.format(
                        "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
                        ino++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, n.length, 0);
        out.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(n);
        pad();
        out.writeBytes(data);
        pad();
    }

    private void pad() {
        while (out.size() % 4 != 0) out.write(0);
    }

    /** The archive with its trailer, gzip-compressed. */
    byte[] gzip() throws IOException {
        entry("TRAILER!!!", 0, new byte[0]);
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(z)) {
            out.writeTo(gz);
        }
        return z.toByteArray();
    }
}
