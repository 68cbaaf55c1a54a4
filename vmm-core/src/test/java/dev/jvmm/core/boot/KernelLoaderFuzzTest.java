package dev.jvmm.core.boot;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.GuestMemoryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Jazzer target for the arm64 Image header parser and the loader: fuzzer-built kernels (raw bytes,
 * or a header with fuzzed text_offset/image_size/flags, a PE section table, optionally gzip'd), a
 * fuzzed RAM geometry, initrd size and DTB size. Invariants: every outcome is either a {@link
 * BootImageException} whose one-line message starts with what it is about, or a placement per
 * booting.rst: the kernel text_offset bytes above a 2 MiB aligned base inside RAM, the DTB in its
 * own 2 MiB block, the initrd 64 KiB aligned in the kernel's 1 GiB aligned 32 GiB window, all
 * inside RAM and pairwise disjoint; loading writes exactly those ranges and nothing else. A plain
 * {@code mvn verify} replays {@code KernelLoaderFuzzTestInputs/placement/}; {@code JAZZER_FUZZ=1}
 * fuzzes.
 */
class KernelLoaderFuzzTest {
    static final long KIB = 1024, MIB = KIB * KIB, GIB = MIB * KIB;
    static final int INITRD_FILE = 64 * 1024;
    static final Path KERNEL = Path.of("/fuzz/Image");
    private static Path initrdFile;

    private static synchronized Path initrdFile() {
        if (initrdFile == null) {
            try {
                initrdFile = Files.createTempFile("jvmm-initrd-fuzz", ".cpio");
                initrdFile.toFile().deleteOnExit();
                byte[] b = new byte[INITRD_FILE];
                for (int i = 0; i < b.length; i++) b[i] = (byte) (i * 7 + 1);
                Files.write(initrdFile, b);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return initrdFile;
    }

    private static InitrdFile readInitrd;

    /** The test initrd as jvmm reads it at start (once: its bytes live off-heap for the run). */
    private static synchronized InitrdFile readInitrd() {
        if (readInitrd == null) {
            try {
                readInitrd = InitrdFile.read(initrdFile(), Long.MAX_VALUE);
            } catch (BootImageException e) {
                throw new IllegalStateException(e);
            }
        }
        return readInitrd;
    }

    /**
     * Guest RAM of any size without backing it: records what is written where, refuses what is
     * outside.
     */
    static final class RecordingMemory implements GuestMemory {
        record Range(long start, long end) {}

        final long base, size;
        final List<Range> writes = new ArrayList<>();

        RecordingMemory(long base, long size) {
            this.base = base;
            this.size = size;
        }

        @Override
        public long base() {
            return base;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public MemorySegment slice(long gpa, long len) {
            if (!contains(gpa, len))
                throw new GuestMemoryException(gpa, len, "is outside guest RAM");
            if (len > 16 * MIB)
                throw new AssertionError("a load slice of " + len + " bytes from a small input");
            writes.add(new Range(gpa, gpa + len));
            return MemorySegment.ofArray(new byte[(int) len]);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void placement(FuzzedDataProvider data) {
        long ramBase =
                switch (data.consumeInt(0, 3)) {
                    case 0 -> 0x8000_0000L; // jvmm's (kvmtool's) RAM base
                    case 1 -> 0;
                    case 2 -> data.consumeLong(0, 1L << 40) & -4096L;
                    default -> data.consumeLong(0, Long.MAX_VALUE / 2);
                };
        long ramSize =
                data.pickValue(
                        new long[] {
                            16 * MIB,
                            64 * MIB,
                            256 * MIB,
                            GIB,
                            40 * GIB,
                            4 * MIB,
                            data.consumeLong(1, 1L << 40)
                        });
        long dtbSize =
                data.consumeBoolean()
                        ? data.consumeLong(0, KernelLoader.DTB_MAX_SIZE)
                        : data.consumeLong();
        InitrdFile initrd =
                switch (data.consumeInt(0, 3)) {
                    case 0 -> null;
                    case 1 -> readInitrd();
                    default ->
                            new InitrdFile(
                                    Path.of("/fuzz/initrd"), data.consumeLong(0, 2 * ramSize));
                };
        byte[] raw = kernelBytes(data);

        KernelImage k;
        try {
            k = KernelImage.parse(KERNEL, raw, ramSize);
        } catch (BootImageException e) {
            assertClean(e, "kernel " + KERNEL);
            return;
        }
        assertTrue(k.raw() ? k.length() > 0 : k.length() >= KernelImage.HEADER_SIZE);
        if (k.raw()) assertEquals(KernelImage.RAW_OFFSET, k.textOffset());
        assertTrue(
                k.textOffset() >= 0 && k.headerImageSize() >= 0,
                "parser accepted a negative header field");
        assertEquals(0, k.flags() & 1, "big-endian kernel accepted");
        assertTrue(k.reservedSize() >= k.length());

        BootPlacement p;
        try {
            p = KernelLoader.plan(k, initrd, dtbSize, ramBase, ramSize);
        } catch (BootImageException e) {
            assertClean(e, null);
            return;
        }
        long ramEnd = ramBase + ramSize;
        long kernelBase = p.kernelLoad() - k.textOffset();
        assertEquals(
                0, kernelBase % KernelLoader.KERNEL_ALIGN, "kernel base not 2 MiB aligned: " + p);
        assertTrue(kernelBase >= ramBase && p.kernelLoad() >= ramBase, "kernel below RAM: " + p);
        assertEquals(p.kernelLoad() + k.reservedSize(), p.kernelEnd(), "kernel reservation: " + p);
        assertTrue(p.kernelEnd() <= ramEnd, "kernel past the end of RAM: " + p);
        assertEquals(0, p.dtbAddress() % (2 * MIB), "DTB not in its own 2 MiB block: " + p);
        assertEquals(p.dtbAddress() + KernelLoader.DTB_MAX_SIZE, p.dtbRegionEnd());
        assertTrue(
                p.dtbAddress() >= p.kernelEnd() && p.dtbRegionEnd() <= ramEnd,
                "DTB outside RAM or on the kernel: " + p);
        if (initrd == null || initrd.size() == 0) {
            assertFalse(p.hasInitrd());
        } else {
            assertEquals(initrd.size(), p.initrdSize());
            assertEquals(0, p.initrdStart() % KernelLoader.INITRD_ALIGN, "initrd alignment: " + p);
            assertTrue(
                    p.initrdStart() >= p.kernelEnd() && p.initrdEnd() <= p.dtbAddress(),
                    "initrd overlaps: " + p);
            long window = p.kernelLoad() & -GIB;
            assertTrue(
                    p.initrdStart() >= window && p.initrdEnd() <= window + 32 * GIB,
                    "initrd outside the 32 GiB window: " + p);
        }

        // A plan-only initrd (sizes, no bytes) cannot be loaded, by contract: the fuzzed sizes end
        // here.
        if (initrd != null && !initrd.loadable()) return;

        // Load into RAM that only records: exactly the planned ranges are written. The initrd file
        // is held open and unchanged, so nothing the plan accepted can be refused now.
        RecordingMemory mem = new RecordingMemory(ramBase, ramSize);
        BootPlacement loaded;
        try {
            loaded = KernelLoader.load(mem, k, initrd, dtbSize);
        } catch (BootImageException e) {
            throw new AssertionError("load refused what plan accepted: " + e.getMessage(), e);
        }
        assertEquals(p, loaded, "load planned differently from plan");
        byte[] dtb = new byte[(int) Math.min(dtbSize, 3 * MIB)];
        try {
            KernelLoader.writeDtb(mem, p, dtb);
            assertTrue(dtb.length <= KernelLoader.DTB_MAX_SIZE);
        } catch (BootImageException e) {
            assertTrue(
                    dtb.length > KernelLoader.DTB_MAX_SIZE,
                    "DTB of " + dtb.length + " bytes refused");
            assertClean(e, "device tree");
        }
        long written = 0;
        for (RecordingMemory.Range r : mem.writes) {
            boolean inKernel = r.start() >= p.kernelLoad() && r.end() <= p.kernelEnd();
            boolean inInitrd = r.start() >= p.initrdStart() && r.end() <= p.initrdEnd();
            boolean inDtb = r.start() >= p.dtbAddress() && r.end() <= p.dtbRegionEnd();
            assertTrue(
                    inKernel || inInitrd || inDtb, "write outside the placement: " + r + " " + p);
            written += r.end() - r.start();
        }
        long expected =
                k.length()
                        + (initrd == null ? 0 : initrd.size())
                        + (dtb.length <= KernelLoader.DTB_MAX_SIZE ? dtb.length : 0);
        assertEquals(expected, written, "bytes written");
    }

    /** A raw fuzzed file, or an Image header with fuzzed fields and PE table, sometimes gzip'd. */
    private static byte[] kernelBytes(FuzzedDataProvider data) {
        if (data.consumeInt(0, 4) == 0) return data.consumeBytes(data.consumeInt(0, 4096));
        int length = data.consumeInt(KernelImage.HEADER_SIZE, 8192);
        long textOffset =
                data.pickValue(
                        new long[] {
                            0, KernelImage.LEGACY_TEXT_OFFSET, 2 * MIB - 4096, data.consumeLong()
                        });
        long imageSize =
                data.pickValue(new long[] {0, length, 40 * MIB, 1L << 62, data.consumeLong()});
        long flags = data.pickValue(new long[] {0, 0b1010, 1, 0b1110, data.consumeLong()});
        byte[] b = TestImages.image(textOffset, imageSize, flags, length);
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (data.consumeBoolean()) { // an EFI stub with a PE header
            int pe = data.pickValue(new int[] {0x40, length - 24, length - 4, data.consumeInt()});
            h.putShort(0, (short) 0x5a4d);
            h.putInt(0x3c, pe);
            if (pe >= 0x40 && (long) pe + 24 <= length) { // pe is fuzzed: no int overflow
                h.putInt(pe, 0x00004550);
                h.putShort(pe + 6, (short) data.consumeInt(0, 0xffff));
                h.putShort(pe + 20, (short) data.consumeInt(0, 0xffff));
                int table = pe + 24 + Short.toUnsignedInt(h.getShort(pe + 20));
                for (long s = table; s + 40 <= length && data.consumeBoolean(); s += 40) {
                    h.putInt((int) s + 16, data.consumeInt());
                    h.putInt((int) s + 20, data.consumeInt());
                }
            }
        }
        int scribbles = data.consumeInt(0, 3);
        for (int i = 0; i < scribbles; i++) b[data.consumeInt(0, length - 1)] = data.consumeByte();
        if (data.consumeBoolean()) {
            byte[] gz = TestImages.gzip(b);
            if (data.consumeBoolean())
                return java.util.Arrays.copyOf(gz, data.consumeInt(0, gz.length));
            if (data.consumeBoolean() && gz.length > 10)
                gz[data.consumeInt(10, gz.length - 1)] ^= (byte) data.consumeInt(1, 255);
            return gz;
        }
        return b;
    }

    /** A refusal is the project's exception with one printable line about {@code subject}. */
    static void assertClean(BootImageException e, String subject) {
        String m = e.getMessage();
        assertNotNull(e.kind());
        assertNotNull(m);
        assertFalse(m.isBlank());
        assertTrue(m.chars().noneMatch(Character::isISOControl), "control character in: " + m);
        if (subject != null)
            assertTrue(m.startsWith(subject), "message not about " + subject + ": " + m);
        assertFalse(m.contains("Exception"), "a Java class name in: " + m);
    }
}
