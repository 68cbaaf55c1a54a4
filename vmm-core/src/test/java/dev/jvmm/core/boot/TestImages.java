package dev.jvmm.core.boot;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.GZIPOutputStream;

/** Synthetic arm64 Images: a valid 64-byte header and a recognisable body. */
final class TestImages {
    private TestImages() {}

    static byte[] image(long textOffset, long imageSize, long flags, int length) {
        byte[] b = new byte[length];
        for (int i = 64; i < length; i++) b[i] = (byte) (i * 31 + 7);
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(0, 0x14000010); // "b #0x40": what code0 looks like in a non-EFI Image
        h.putLong(8, textOffset);
        h.putLong(16, imageSize);
        h.putLong(24, flags);
        h.putInt(KernelImage.MAGIC_OFFSET, KernelImage.MAGIC);
        return b;
    }

    /** A modern Image: text_offset 0, 4K pages, placement anywhere. */
    static byte[] image(int length, long imageSize) {
        return image(0, imageSize, 0b1010, length);
    }

    /**
     * An EFI-stub style Image: "MZ" code0, PE header at 0x40 with one section whose raw data ends
     * at {@code sectionEnd}.
     */
    static byte[] efiImage(int length, long sectionEnd) {
        byte[] b = image(0, Math.max(length, sectionEnd) + 0x10000, 0b1010, length);
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort(0, (short) 0x5a4d);
        h.putInt(0x3c, 0x40);
        h.putInt(0x40, 0x00004550); // "PE\0\0"
        h.putShort(0x40 + 6, (short) 1); // one section
        h.putShort(0x40 + 20, (short) 0); // no optional header, so the table starts at 0x58
        h.putInt(0x58 + 16, (int) (sectionEnd - 0x1000)); // SizeOfRawData
        h.putInt(0x58 + 20, 0x1000); // PointerToRawData
        return b;
    }

    static byte[] gzip(byte[] data) {
        try {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(bo)) {
                gz.write(data);
            }
            return bo.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
