package dev.jvmm.core.boot;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.boot.BootImageException.Kind;
import java.lang.foreign.MemorySegment;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class KernelImageTest {
    static final long RAM = 256L << 20;
    @TempDir Path dir;

    /** Every bad input: the expected kind, one line, naming the file. */
    static BootImageException assertBad(Kind kind, Path file, Executable e) {
        BootImageException ex = assertThrows(BootImageException.class, e);
        assertEquals(kind, ex.kind(), ex.getMessage());
        assertFalse(ex.getMessage().contains("\n"), "one line: " + ex.getMessage());
        assertTrue(ex.getMessage().contains(file.toString()), "names the file: " + ex.getMessage());
        return ex;
    }

    Path write(String name, byte[] b) throws Exception {
        return Files.write(dir.resolve(name), b);
    }

    @Test
    void parsesModernHeader() throws Exception {
        Path f = write("Image", TestImages.image(0x200000, 0x1234000, 0b1100, 4096));
        KernelImage k = KernelImage.read(f, RAM);
        assertEquals(0x200000, k.textOffset());
        assertEquals(0x1234000, k.headerImageSize());
        assertEquals(0x1234000, k.reservedSize());
        assertEquals(16, k.pageSizeKiB());
        assertTrue(k.placeAnywhere());
        assertFalse(k.decompressed());
        assertEquals(4096, k.length());
        assertEquals(f, k.file());
    }

    @Test
    void pageSizeField() throws Exception {
        assertEquals(
                0,
                KernelImage.parse(Path.of("x"), TestImages.image(0, 4096, 0, 64), RAM)
                        .pageSizeKiB());
        assertEquals(
                4,
                KernelImage.parse(Path.of("x"), TestImages.image(0, 4096, 2, 64), RAM)
                        .pageSizeKiB());
        assertEquals(
                64,
                KernelImage.parse(Path.of("x"), TestImages.image(0, 4096, 6, 64), RAM)
                        .pageSizeKiB());
        assertFalse(
                KernelImage.parse(Path.of("x"), TestImages.image(0, 4096, 6, 64), RAM)
                        .placeAnywhere());
    }

    @Test
    void zeroImageSizeMeansLegacyTextOffset() throws Exception {
        KernelImage k =
                KernelImage.parse(Path.of("old"), TestImages.image(0x12345, 0, 0, 1000), RAM);
        assertEquals(0x80000, k.textOffset());
        assertEquals(1000, k.reservedSize(), "no image_size: reserve the file");
    }

    @Test
    void fileLongerThanImageSizeReservesFile() throws Exception {
        KernelImage k = KernelImage.parse(Path.of("x"), TestImages.image(8192, 100), RAM);
        assertEquals(8192, k.reservedSize());
    }

    @Test
    void gzipImageIsInflated() throws Exception {
        byte[] raw = TestImages.image(100_000, 0x200000);
        Path f = write("Image.gz", TestImages.gzip(raw));
        KernelImage k = KernelImage.read(f, RAM);
        assertTrue(k.decompressed());
        assertArrayEquals(raw, copied(k));
    }

    private static byte[] copied(KernelImage k) throws BootImageException {
        byte[] out = new byte[Math.toIntExact(k.length())];
        k.copyTo(MemorySegment.ofArray(out));
        return out;
    }

    @Test
    void plainImageIsReadAgainFromTheFileItOpenedAfterThePathIsReplacedOrRemoved()
            throws Exception {
        byte[] raw = TestImages.image(200_000, 0x200000);
        Path f = write("Image", raw);
        KernelImage k = KernelImage.read(f, RAM);
        assertFalse(k.decompressed());
        Path other = write("Other", TestImages.image(300_000, 0x200000));
        Files.move(other, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertArrayEquals(raw, copied(k), "the replaced path must not matter");
        Files.delete(f);
        assertArrayEquals(raw, copied(k), "the removed path must not matter");
    }

    @Test
    void plainImageRewrittenInPlaceIsRefusedAtTheNextLoad() throws Exception {
        byte[] raw = TestImages.image(200_000, 0x200000);
        Path f = write("Image", raw);
        KernelImage k = KernelImage.read(f, RAM);
        byte[] changed = raw.clone();
        changed[100_000] ^= 1;
        java.nio.file.attribute.FileTime before = Files.getLastModifiedTime(f);
        Files.write(f, changed); // truncates and rewrites the same inode, same size
        // as if written a second later (file times tick in jiffies: a rewrite within the same
        // tick with the same size is the one change this check cannot see)
        Files.setLastModifiedTime(
                f, java.nio.file.attribute.FileTime.fromMillis(before.toMillis() + 1000));
        BootImageException e = assertThrows(BootImageException.class, () -> copied(k));
        assertEquals(Kind.CHANGED, e.kind());
        assertTrue(
                e.getMessage().startsWith("kernel " + f + ": was rewritten in place"),
                e.getMessage());
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("nope");
        assertBad(Kind.MISSING, f, () -> KernelImage.read(f, RAM));
    }

    @Test
    void directoryIsUnreadable() {
        assertBad(Kind.UNREADABLE, dir, () -> KernelImage.read(dir, RAM));
    }

    @Test
    void accessDeniedIsUnreadable() {
        Path f = dir.resolve("secret");
        BootImageException e =
                BootFiles.unreadable("kernel " + f, new AccessDeniedException(f.toString()));
        assertEquals(Kind.UNREADABLE, e.kind());
        assertTrue(e.getMessage().contains("permission denied"));
    }

    /**
     * Without the magic a file is a raw binary, as under kvmtool: the header's fields are not read
     * (this one's text_offset 0 and flags would say otherwise), every byte is loaded as it is.
     */
    @Test
    void withoutMagicTheFileIsRaw() throws Exception {
        byte[] b = TestImages.image(4096, 8192);
        b[0x39] ^= 1; // linux-loader's test corrupts the same byte
        Path f = write("bad", b);
        KernelImage k = KernelImage.read(f, RAM);
        assertTrue(k.raw());
        assertFalse(k.decompressed());
        assertEquals(4096, k.length());
        assertEquals(KernelImage.RAW_OFFSET, k.textOffset());
        assertEquals(0x80000, KernelImage.RAW_OFFSET);
        assertEquals(0, k.headerImageSize());
        assertEquals(0, k.flags());
        assertEquals(4096, k.reservedSize());
        assertArrayEquals(b, copied(k));
        assertFalse(KernelImage.read(write("Image", TestImages.image(4096, 8192)), RAM).raw());
    }

    /**
     * The magic needs 60 bytes: anything shorter cannot be an Image and is a raw program (one
     * instruction is a valid one); kvmtool refuses files under 64 bytes, jvmm has no reason to.
     */
    @Test
    void filesTooShortToHoldTheMagicAreRaw() throws Exception {
        byte[] branchToSelf = {0x00, 0x00, 0x00, 0x14}; // "b ."
        KernelImage k = KernelImage.read(write("tiny", branchToSelf), RAM);
        assertTrue(k.raw());
        assertArrayEquals(branchToSelf, copied(k));
        byte[] fiftyNine = Arrays.copyOf(TestImages.image(4096, 8192), 59); // magic cut in half
        assertTrue(KernelImage.read(write("59", fiftyNine), RAM).raw());
        assertTrue(KernelImage.parse(Path.of("mem"), branchToSelf, RAM).raw());
    }

    @Test
    void emptyFileIsRefused() throws Exception {
        Path empty = write("empty", new byte[0]);
        BootImageException e = assertBad(Kind.TRUNCATED, empty, () -> KernelImage.read(empty, RAM));
        assertEquals("kernel " + empty + ": is empty", e.getMessage());
    }

    /** Inflating is for Images only: a gzip without one is refused, never entered raw. */
    @Test
    void badMagicInsideGzip() throws Exception {
        Path f = write("notimage.gz", TestImages.gzip(new byte[4096]));
        BootImageException e = assertBad(Kind.BAD_MAGIC, f, () -> KernelImage.read(f, RAM));
        assertTrue(e.getMessage().contains("0x38"), e.getMessage());
        Path tiny = write("tiny.gz", TestImages.gzip(new byte[] {1, 2, 3}));
        e = assertBad(Kind.BAD_MAGIC, tiny, () -> KernelImage.read(tiny, RAM));
        assertTrue(e.getMessage().contains("only 3 bytes"), e.getMessage());
        Path empty = write("empty.gz", TestImages.gzip(new byte[0]));
        assertBad(Kind.TRUNCATED, empty, () -> KernelImage.read(empty, RAM));
    }

    /** The magic present makes it an Image, so an Image cut inside its header is still refused. */
    @Test
    void shorterThanHeader() throws Exception {
        Path f = write("short", Arrays.copyOf(TestImages.image(4096, 8192), 63));
        assertBad(Kind.TRUNCATED, f, () -> KernelImage.read(f, RAM));
        Path sixty = write("sixty", Arrays.copyOf(TestImages.image(4096, 8192), 60));
        BootImageException e = assertBad(Kind.TRUNCATED, sixty, () -> KernelImage.read(sixty, RAM));
        assertTrue(e.getMessage().contains("60 bytes"), e.getMessage());
        Path gz =
                write("short.gz", TestImages.gzip(Arrays.copyOf(TestImages.image(4096, 8192), 62)));
        assertBad(Kind.TRUNCATED, gz, () -> KernelImage.read(gz, RAM));
    }

    @Test
    void efiStubSectionsMustBeInFile() throws Exception {
        Path ok = write("ok", TestImages.efiImage(0x3000, 0x3000));
        assertEquals(0x3000, KernelImage.read(ok, RAM).length());
        Path cut = write("cut", TestImages.efiImage(0x2000, 0x3000));
        BootImageException e = assertBad(Kind.TRUNCATED, cut, () -> KernelImage.read(cut, RAM));
        assertTrue(e.getMessage().contains("12288"), e.getMessage());
    }

    @Test
    void bigEndian() throws Exception {
        Path f = write("be", TestImages.image(0, 8192, 1, 4096));
        assertBad(Kind.BIG_ENDIAN, f, () -> KernelImage.read(f, RAM));
    }

    @Test
    void efiZbootRejected() throws Exception {
        byte[] b = TestImages.image(4096, 8192);
        b[0] = 'M';
        b[1] = 'Z';
        b[4] = 'z';
        b[5] = 'i';
        b[6] = 'm';
        b[7] = 'g';
        Path f = write("vmlinuz.efi", b);
        assertBad(Kind.UNSUPPORTED_FORMAT, f, () -> KernelImage.read(f, RAM));
    }

    /**
     * Found by KernelLoaderFuzzTest: a gzip cut inside its 10-byte header makes GZIPInputStream
     * throw an EOFException without a message, and the user saw "corrupt gzip data: EOFException"
     * (a Java class name).
     */
    @Test
    void gzipCutInItsHeaderSaysSoWithoutAJavaClassName() throws Exception {
        Path f = write("header.gz", new byte[] {0x1f, (byte) 0x8b, 8, 0});
        BootImageException e = assertBad(Kind.CORRUPT_GZIP, f, () -> KernelImage.read(f, RAM));
        assertEquals("kernel " + f + ": corrupt gzip data: ends unexpectedly", e.getMessage());
    }

    @Test
    void corruptGzip() throws Exception {
        byte[] gz = TestImages.gzip(TestImages.image(100_000, 0x200000));
        byte[] cut = Arrays.copyOf(gz, gz.length / 2);
        Path f = write("cut.gz", cut);
        assertBad(Kind.CORRUPT_GZIP, f, () -> KernelImage.read(f, RAM));
        byte[] garbled = gz.clone();
        for (int i = 20; i < 60; i++) garbled[i] ^= 0x5a;
        Path g = write("garbled.gz", garbled);
        assertBad(Kind.CORRUPT_GZIP, g, () -> KernelImage.read(g, RAM));
    }

    @Test
    void gzipInflatingBeyondCapIsTooLarge() throws Exception {
        Path f = write("bomb.gz", TestImages.gzip(TestImages.image(1 << 20, 1 << 20)));
        assertBad(Kind.KERNEL_TOO_LARGE, f, () -> KernelImage.read(f, 512 * 1024));
    }

    @Test
    void fileLargerThanRam() throws Exception {
        Path f = write("big", TestImages.image(8192, 8192));
        assertBad(Kind.KERNEL_TOO_LARGE, f, () -> KernelImage.read(f, 4096));
    }

    @Test
    void absurdHeaderValues() throws Exception {
        Path f = write("absurd", TestImages.image(-4096, 8192, 0, 4096));
        assertBad(Kind.KERNEL_TOO_LARGE, f, () -> KernelImage.read(f, RAM));
    }

    @Test
    void controlCharactersInPathStayOnOneLine() {
        Path f = dir.resolve("evil\nname");
        BootImageException e =
                assertThrows(BootImageException.class, () -> KernelImage.read(f, RAM));
        assertFalse(e.getMessage().contains("\n"));
    }
}
