package dev.jvmm.core.boot;

import static dev.jvmm.core.boot.KernelImageTest.assertBad;
import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.boot.BootImageException.Kind;
import dev.jvmm.core.memory.SegmentGuestMemory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelLoaderTest {
    static final long MIB = 1L << 20, GIB = 1L << 30;
    static final long RAM_BASE = 0x8000_0000L;
    @TempDir Path dir;

    static KernelImage kernel(long textOffset, long imageSize, int length)
            throws BootImageException {
        return KernelImage.parse(
                Path.of("/boot/Image"),
                TestImages.image(textOffset, imageSize, 0b1010, length),
                Long.MAX_VALUE);
    }

    static void assertSane(BootPlacement p, long ramBase, long ramSize) {
        long end = ramBase + ramSize;
        assertTrue(p.kernelLoad() >= ramBase && p.kernelEnd() <= end, p.toString());
        assertEquals(0, p.dtbAddress() % (2 * MIB), "DTB in its own 2 MiB block");
        assertEquals(p.dtbAddress() + 2 * MIB, p.dtbRegionEnd());
        assertTrue(p.dtbAddress() >= p.kernelEnd() && p.dtbRegionEnd() <= end, p.toString());
        if (p.hasInitrd()) {
            assertEquals(0, p.initrdStart() % (64 * 1024));
            assertTrue(p.initrdStart() >= p.kernelEnd(), p.toString());
            assertTrue(p.initrdEnd() <= p.dtbAddress(), p.toString());
            long window = p.kernelLoad() & -GIB;
            assertTrue(
                    p.initrdEnd() <= window + 32 * GIB, "initrd within the kernel's 32 GiB window");
        }
    }

    @Test
    void modernKernelAtRamBaseDtbAndInitrdHigh() throws Exception {
        KernelImage k = kernel(0, 40 * MIB, 30 * 1024);
        BootPlacement p =
                KernelLoader.plan(
                        k,
                        new InitrdFile(Path.of("/boot/initrd"), 10 * MIB + 3),
                        4096,
                        RAM_BASE,
                        256 * MIB);
        assertEquals(RAM_BASE, p.kernelLoad());
        assertEquals(RAM_BASE, p.entryPoint());
        assertEquals(RAM_BASE + 40 * MIB, p.kernelEnd());
        assertEquals(RAM_BASE + 254 * MIB, p.dtbAddress());
        assertEquals(p.initrdStart() + 10 * MIB + 3, p.initrdEnd());
        assertEquals(RAM_BASE + 254 * MIB - 10 * MIB - 64 * 1024, p.initrdStart());
        assertSane(p, RAM_BASE, 256 * MIB);
    }

    @Test
    void textOffsetFromTwoMiBAlignedBase() throws Exception {
        long unaligned = RAM_BASE + 0x1000;
        BootPlacement p =
                KernelLoader.plan(kernel(0x80000, 8 * MIB, 4096), null, 0, unaligned, 128 * MIB);
        assertEquals(RAM_BASE + 2 * MIB + 0x80000, p.kernelLoad());
        assertFalse(p.hasInitrd());
        assertSane(p, unaligned, 128 * MIB);
    }

    @Test
    void ramSizeNotMultipleOfTwoMiB() throws Exception {
        BootPlacement p =
                KernelLoader.plan(kernel(0, 4 * MIB, 4096), null, 100, RAM_BASE, 64 * MIB + 12345);
        assertEquals(RAM_BASE + 62 * MIB, p.dtbAddress());
        assertSane(p, RAM_BASE, 64 * MIB + 12345);
    }

    @Test
    void largeRamKeepsInitrdInsideThe32GiBWindow() throws Exception {
        BootPlacement p =
                KernelLoader.plan(
                        kernel(0, 40 * MIB, 4096),
                        new InitrdFile(Path.of("rd"), 50 * MIB),
                        KernelLoader.DTB_MAX_SIZE,
                        RAM_BASE,
                        64 * GIB);
        assertEquals((RAM_BASE & -GIB) + 32 * GIB - 2 * MIB, p.dtbAddress());
        assertSane(p, RAM_BASE, 64 * GIB);
    }

    @Test
    void kernelLargerThanRam() throws Exception {
        BootImageException e =
                assertBad(
                        Kind.KERNEL_TOO_LARGE,
                        Path.of("/boot/Image"),
                        () ->
                                KernelLoader.plan(
                                        kernel(0, 300 * MIB, 4096), null, 0, RAM_BASE, 256 * MIB));
        assertTrue(e.getMessage().contains("256 MiB"), e.getMessage());
    }

    @Test
    void textOffsetPushesKernelPastRam() throws Exception {
        assertBad(
                Kind.KERNEL_TOO_LARGE,
                Path.of("/boot/Image"),
                () ->
                        KernelLoader.plan(
                                kernel(0x7fff_ffff_0000_0000L, 4096, 4096),
                                null,
                                0,
                                RAM_BASE,
                                256 * MIB));
    }

    @Test
    void kernelFitsButNoRoomForDtb() throws Exception {
        assertBad(
                Kind.NO_FIT,
                Path.of("/boot/Image"),
                () -> KernelLoader.plan(kernel(0, 63 * MIB, 4096), null, 0, RAM_BASE, 64 * MIB));
    }

    @Test
    void initrdLargerThanRam() throws Exception {
        Path rd = Path.of("/boot/initrd.img");
        assertBad(
                Kind.INITRD_TOO_LARGE,
                rd,
                () ->
                        KernelLoader.plan(
                                kernel(0, 8 * MIB, 4096),
                                new InitrdFile(rd, 65 * MIB),
                                0,
                                RAM_BASE,
                                64 * MIB));
    }

    @Test
    void initrdWouldOverlapKernel() throws Exception {
        Path rd = Path.of("/boot/initrd.img");
        assertBad(
                Kind.NO_FIT,
                rd,
                () ->
                        KernelLoader.plan(
                                kernel(0, 32 * MIB, 4096),
                                new InitrdFile(rd, 31 * MIB),
                                0,
                                RAM_BASE,
                                64 * MIB));
        // one 64 KiB granule less and it fits exactly
        BootPlacement p =
                KernelLoader.plan(
                        kernel(0, 32 * MIB, 4096),
                        new InitrdFile(rd, 30 * MIB),
                        0,
                        RAM_BASE,
                        64 * MIB);
        assertEquals(RAM_BASE + 32 * MIB, p.initrdStart());
        assertSane(p, RAM_BASE, 64 * MIB);
    }

    @Test
    void dtbOverTwoMiB() {
        BootImageException e =
                assertThrows(
                        BootImageException.class,
                        () ->
                                KernelLoader.plan(
                                        kernel(0, MIB, 4096),
                                        null,
                                        2 * MIB + 1,
                                        RAM_BASE,
                                        64 * MIB));
        assertEquals(Kind.DTB_TOO_LARGE, e.kind());
        assertTrue(e.getMessage().startsWith("device tree:"), e.getMessage());
    }

    @Test
    void randomGeometriesEitherFailCleanlyOrPlaceDisjointly() throws Exception {
        Random r = new Random(42);
        for (int i = 0; i < 2000; i++) {
            long ramBase = (r.nextInt(64) * MIB) + (r.nextBoolean() ? 0 : r.nextInt(1 << 20));
            long ramSize = (1 + r.nextInt(512)) * MIB + (r.nextBoolean() ? 0 : r.nextInt(1 << 20));
            long text = r.nextBoolean() ? 0 : r.nextInt(4) * 0x80000L;
            long img = (long) r.nextInt(300) * MIB / 2 + 64;
            InitrdFile rd =
                    r.nextBoolean()
                            ? null
                            : new InitrdFile(Path.of("rd"), (long) r.nextInt(300) * MIB / 2);
            try {
                assertSane(
                        KernelLoader.plan(kernel(text, img, 64), rd, 8, ramBase, ramSize),
                        ramBase,
                        ramSize);
            } catch (BootImageException e) {
                assertTrue(
                        e.kind() == Kind.KERNEL_TOO_LARGE
                                || e.kind() == Kind.INITRD_TOO_LARGE
                                || e.kind() == Kind.NO_FIT,
                        e.getMessage());
            }
        }
    }

    @Test
    void badRamGeometryIsAProgrammingError() {
        assertThrows(
                IllegalArgumentException.class,
                () -> KernelLoader.plan(kernel(0, MIB, 64), null, 0, RAM_BASE, 0));
        assertThrows(
                IllegalArgumentException.class,
                () -> KernelLoader.plan(kernel(0, MIB, 64), null, 0, Long.MAX_VALUE - 10, 100));
    }

    @Test
    void commandLineLimitIncludesNul() throws Exception {
        byte[] ok = KernelLoader.commandLine("a".repeat(2047));
        assertEquals(2048, ok.length);
        assertEquals(0, ok[2047]);
        BootImageException e =
                assertThrows(
                        BootImageException.class, () -> KernelLoader.commandLine("a".repeat(2048)));
        assertEquals(Kind.CMDLINE_TOO_LONG, e.kind());
        assertTrue(
                e.getMessage().startsWith("kernel command line:")
                        && e.getMessage().contains("2049"),
                e.getMessage());
        // bytes, not chars: 1024 two-byte characters plus NUL is 2049
        assertEquals(
                Kind.CMDLINE_TOO_LONG,
                assertThrows(
                                BootImageException.class,
                                () -> KernelLoader.commandLine("é".repeat(1024)))
                        .kind());
        assertEquals(
                Kind.CMDLINE_INVALID,
                assertThrows(
                                BootImageException.class,
                                () -> KernelLoader.commandLine("console=ttyS0\0x"))
                        .kind());
        assertArrayEquals(new byte[] {0}, KernelLoader.commandLine(""));
    }

    @Test
    void loadCopiesKernelInitrdAndDtb() throws Exception {
        SegmentGuestMemory mem = SegmentGuestMemory.onHeap(0x4000_0000L, (int) (64 * MIB));
        byte[] kbytes = TestImages.image(0, 8 * MIB, 0b1010, 70_000);
        Path kf = Files.write(dir.resolve("Image"), kbytes);
        byte[] rdBytes = new byte[300_001];
        new Random(1).nextBytes(rdBytes);
        Path rf = Files.write(dir.resolve("initrd"), rdBytes);

        BootImages images = KernelLoader.prepare(kf, rf, "console=ttyS0", mem.base(), mem.size());
        BootPlacement p = KernelLoader.load(mem, images);
        assertEquals(images.placement(), p);
        assertArrayEquals(
                "console=ttyS0\0".getBytes(StandardCharsets.US_ASCII), images.commandLine());

        byte[] back = new byte[kbytes.length];
        mem.read(p.kernelLoad(), back);
        assertArrayEquals(kbytes, back);
        byte[] rdBack = new byte[rdBytes.length];
        mem.read(p.initrdStart(), rdBack);
        assertArrayEquals(rdBytes, rdBack);

        byte[] dtb = {(byte) 0xd0, 0x0d, (byte) 0xfe, (byte) 0xed};
        KernelLoader.writeDtb(mem, p, dtb);
        assertEquals(0xedfe0dd0, mem.readInt(p.dtbAddress()));
        assertEquals(
                Kind.DTB_TOO_LARGE,
                assertThrows(
                                BootImageException.class,
                                () -> KernelLoader.writeDtb(mem, p, new byte[(int) (2 * MIB + 8)]))
                        .kind());
        assertSane(p, mem.base(), mem.size());
    }

    static KernelImage raw(int length) throws BootImageException {
        byte[] b = new byte[length];
        new Random(length).nextBytes(b);
        b[KernelImage.MAGIC_OFFSET] = 0; // whatever else the random bytes are, not "ARM\x64"
        return KernelImage.parse(Path.of("/tmp/raw.bin"), b, Long.MAX_VALUE);
    }

    /**
     * kvmtool's placement of a raw binary (arm/kvm.c): at RAM + 0x80000, DTB in the top 2 MiB block
     * of the first min(RAM, 256 MiB), initrd right below it. Up to 256 MiB of RAM the DTB is where
     * an Image's goes too.
     */
    @Test
    void rawBinaryGoesAtRamPlus0x80000WithDtbAndInitrdLikeKvmtool() throws Exception {
        KernelImage k = raw(5000);
        assertTrue(k.raw());
        BootPlacement p = KernelLoader.plan(k, null, 4096, RAM_BASE, 256 * MIB);
        assertEquals(RAM_BASE + 0x80000, p.kernelLoad());
        assertEquals(RAM_BASE + 0x80000, p.entryPoint());
        assertEquals(RAM_BASE + 0x80000 + 5000, p.kernelEnd());
        assertEquals(RAM_BASE + 254 * MIB, p.dtbAddress());
        assertFalse(p.hasInitrd());

        InitrdFile rd = new InitrdFile(Path.of("/boot/initrd"), 3 * MIB + 5);
        BootPlacement small = KernelLoader.plan(k, rd, 4096, RAM_BASE, 64 * MIB);
        assertEquals(RAM_BASE + 62 * MIB, small.dtbAddress());
        assertEquals(RAM_BASE + 62 * MIB - 3 * MIB - 64 * 1024, small.initrdStart());
        assertEquals(small.initrdStart() + 3 * MIB + 5, small.initrdEnd());
        assertSane(small, RAM_BASE, 64 * MIB);
    }

    /** Above 256 MiB of RAM a raw binary's DTB and initrd stay low; an Image's go to the top. */
    @Test
    void rawBinaryKeepsDtbAndInitrdInTheFirst256MiB() throws Exception {
        InitrdFile rd = new InitrdFile(Path.of("/boot/initrd"), 10 * MIB);
        BootPlacement p = KernelLoader.plan(raw(4096), rd, 4096, RAM_BASE, 4 * GIB);
        assertEquals(RAM_BASE + 0x80000, p.kernelLoad());
        assertEquals(RAM_BASE + 254 * MIB, p.dtbAddress());
        assertEquals(RAM_BASE + 244 * MIB, p.initrdStart()); // 10 MiB is 64 KiB aligned already
        assertSane(p, RAM_BASE, 4 * GIB);
        BootPlacement image =
                KernelLoader.plan(kernel(0, 8 * MIB, 4096), rd, 4096, RAM_BASE, 4 * GIB);
        assertEquals(RAM_BASE + 4 * GIB - 2 * MIB, image.dtbAddress());
    }

    @Test
    void rawBinaryTooLargeForTheFirst256MiBIsRefusedOnOneLine() throws Exception {
        KernelImage big = raw((int) (254 * MIB));
        BootImageException e =
                assertBad(
                        Kind.NO_FIT,
                        Path.of("/tmp/raw.bin"),
                        () -> KernelLoader.plan(big, null, 4096, RAM_BASE, GIB));
        assertTrue(e.getMessage().contains("first 256 MiB"), e.getMessage());
        assertTrue(e.getMessage().contains("raw binary"), e.getMessage());
        BootImageException tooLarge =
                assertBad(
                        Kind.KERNEL_TOO_LARGE,
                        Path.of("/tmp/raw.bin"),
                        () ->
                                KernelLoader.plan(
                                        raw((int) (16 * MIB)), null, 4096, RAM_BASE, 16 * MIB));
        assertTrue(tooLarge.getMessage().contains("RAM base + 0x80000"), tooLarge.getMessage());
    }

    @Test
    void prepareLoadsARawBinaryAndSaysSoAtInfo() throws Exception {
        SegmentGuestMemory mem = SegmentGuestMemory.onHeap(RAM_BASE, (int) (32 * MIB));
        byte[] program = new byte[777];
        new Random(3).nextBytes(program);
        Path f = Files.write(dir.resolve("prog.bin"), program);
        java.util.logging.Logger log =
                java.util.logging.Logger.getLogger(KernelLoader.class.getName());
        java.util.List<java.util.logging.LogRecord> records = new java.util.ArrayList<>();
        java.util.logging.Handler h =
                new java.util.logging.Handler() {
                    @Override
                    public void publish(java.util.logging.LogRecord r) {
                        records.add(r);
                    }

                    @Override
                    public void flush() {}

                    @Override
                    public void close() {}
                };
        java.util.logging.Level before = log.getLevel();
        log.setLevel(java.util.logging.Level.INFO);
        log.addHandler(h);
        BootImages images;
        try {
            images = KernelLoader.prepare(f, null, "", mem.base(), mem.size());
        } finally {
            log.removeHandler(h);
            log.setLevel(before);
        }
        assertEquals(1, records.size(), "one line");
        java.util.logging.LogRecord r = records.get(0);
        assertEquals(java.util.logging.Level.INFO, r.getLevel());
        String line = new java.util.logging.SimpleFormatter().formatMessage(r);
        assertTrue(line.contains("loaded raw"), line);
        assertTrue(line.contains("0x80080000"), line);
        assertTrue(line.contains(f.toString()), line);

        BootPlacement p = KernelLoader.load(mem, images);
        assertEquals(RAM_BASE + 0x80000, p.kernelLoad());
        byte[] back = new byte[program.length];
        mem.read(RAM_BASE + 0x80000, back);
        assertArrayEquals(program, back);
    }

    @Test
    void prepareReportsEachFileByName() throws Exception {
        Path kf = Files.write(dir.resolve("Image"), TestImages.image(4096, 8 * MIB));
        Path missingRd = dir.resolve("no-initrd");
        assertBad(
                Kind.MISSING,
                missingRd,
                () -> KernelLoader.prepare(kf, missingRd, "", RAM_BASE, 64 * MIB));
        assertBad(
                Kind.UNREADABLE, dir, () -> KernelLoader.prepare(kf, dir, "", RAM_BASE, 64 * MIB));
        Path missingK = dir.resolve("no-kernel");
        assertBad(
                Kind.MISSING,
                missingK,
                () -> KernelLoader.prepare(missingK, null, "", RAM_BASE, 64 * MIB));
        Path bigRd = Files.write(dir.resolve("big-initrd"), new byte[(int) (60 * MIB)]);
        assertBad(
                Kind.NO_FIT, bigRd, () -> KernelLoader.prepare(kf, bigRd, "", RAM_BASE, 64 * MIB));
    }

    @Test
    void aReloadReadsTheFilesOpenedAtStartAfterTheirPathsAreReplacedOrRemoved() throws Exception {
        SegmentGuestMemory mem = SegmentGuestMemory.onHeap(0x4000_0000L, (int) (32 * MIB));
        byte[] kbytes = TestImages.image(4096, 4 * MIB);
        Path kf = Files.write(dir.resolve("Image"), kbytes);
        byte[] rdBytes = new byte[10_000];
        new Random(7).nextBytes(rdBytes);
        Path rf = Files.write(dir.resolve("initrd"), rdBytes);
        BootImages images = KernelLoader.prepare(kf, rf, "", mem.base(), mem.size());
        KernelLoader.load(mem, images);
        // before an in-place reboot: a new initrd is renamed over the old path, the kernel removed
        Path fresh = Files.write(dir.resolve("initrd.new"), new byte[5_000]);
        Files.move(fresh, rf, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.delete(kf);
        SegmentGuestMemory again = SegmentGuestMemory.onHeap(0x4000_0000L, (int) (32 * MIB));
        BootPlacement p = KernelLoader.load(again, images);
        byte[] back = new byte[rdBytes.length];
        again.read(p.initrdStart(), back);
        assertArrayEquals(rdBytes, back);
        byte[] kback = new byte[kbytes.length];
        again.read(p.kernelLoad(), kback);
        assertArrayEquals(kbytes, kback);
    }

    @Test
    void aReloadRefusesAnInitrdRewrittenInPlace() throws Exception {
        SegmentGuestMemory mem = SegmentGuestMemory.onHeap(0x4000_0000L, (int) (32 * MIB));
        Path kf = Files.write(dir.resolve("Image"), TestImages.image(4096, 4 * MIB));
        Path rf = Files.write(dir.resolve("initrd"), new byte[10_000]);
        BootImages images = KernelLoader.prepare(kf, rf, "", mem.base(), mem.size());
        KernelLoader.load(mem, images);
        Files.write(rf, new byte[5_000]); // the same file, shorter
        BootImageException e =
                assertThrows(BootImageException.class, () -> KernelLoader.load(mem, images));
        assertEquals(Kind.CHANGED, e.kind());
        assertTrue(
                e.getMessage().startsWith("initrd " + rf + ": was rewritten in place"),
                e.getMessage());
    }

    @Test
    void devicesAndFifosAreRefusedBeforeAnyRead() throws Exception {
        Path kf = Files.write(dir.resolve("Image"), TestImages.image(4096, 4 * MIB));
        Path zero = Path.of("/dev/zero");
        assertBad(
                Kind.UNREADABLE,
                zero,
                () -> KernelLoader.prepare(zero, null, "", RAM_BASE, 64 * MIB));
        assertBad(
                Kind.UNREADABLE,
                zero,
                () -> KernelLoader.prepare(kf, zero, "", RAM_BASE, 64 * MIB));
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        BootImageException e =
                assertThrows(
                        BootImageException.class,
                        () -> KernelLoader.prepare(kf, fifo, "", RAM_BASE, 64 * MIB));
        assertEquals("initrd " + fifo + ": not a regular file (a FIFO)", e.getMessage());
    }
}
