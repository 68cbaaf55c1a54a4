package dev.jvmm.core.boot;

import dev.jvmm.core.boot.BootImageException.Kind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * A validated arm64 Linux {@code Image} (Documentation/arch/arm64/booting.rst), possibly read from
 * an {@code Image.gz}: the arm64 kernel has no decompressor, so the boot loader (we) must inflate
 * it. Pure: only reads the file, so every bad kernel is reported before a KVM fd is opened.
 *
 * <p>A file without the Image magic is a <em>raw</em> binary, as kvmtool treats it (its arm64
 * {@code kvm__arch_get_kern_offset}: magic absent, "assuming TEXT_OFFSET to be 0x80000"):
 * bare-metal test programs are linked flat, without Linux's header. "Magic present" means the four
 * bytes at {@link #MAGIC_OFFSET} exist and are "ARM\x64"; only then do the Image checks apply, so a
 * cut-off or big-endian Image is still refused, while a file shorter than that (kvmtool refuses one
 * under 64 bytes; a tiny test program is a fine raw binary) or with other bytes there is raw. An
 * empty file is refused: there is nothing to enter. A gzip file must hold an Image: inflating is
 * jvmm's own service for kernels, and a gzip stream is never a program to enter.
 */
public final class KernelImage {
    public static final int HEADER_SIZE = 64;

    /** "ARM\x64" little-endian at {@link #MAGIC_OFFSET}. */
    public static final int MAGIC = 0x644d5241;

    public static final int MAGIC_OFFSET = 0x38;

    /** booting.rst: pre-3.17 kernels have image_size 0 and an implied text_offset of 0x80000. */
    public static final long LEGACY_TEXT_OFFSET = 0x80000;

    /**
     * Where a raw binary goes, from RAM base: kvmtool's default TEXT_OFFSET for a file without the
     * magic (the same 0x80000 as a legacy Image).
     */
    public static final long RAW_OFFSET = 0x80000;

    private static final System.Logger LOG = System.getLogger(KernelImage.class.getName());
    private static final int PE_OFFSET_FIELD = 0x3c;

    /** What is read of a plain Image file to validate it: the header and the PE section table. */
    static final int HEAD_SIZE = 64 * 1024;

    private final Path file;
    private final byte[] bytes; // the Image when it was inflated or parsed from memory, else null
    private final HeldFile source; // the plain Image file, read again at each load, else null
    private final long length;
    private final long textOffset;
    private final long imageSize;
    private final long flags;
    private final boolean decompressed;
    private final boolean raw;

    private KernelImage(
            Path file,
            byte[] bytes,
            HeldFile source,
            long length,
            long textOffset,
            long imageSize,
            long flags,
            boolean decompressed,
            boolean raw) {
        this.file = file;
        this.bytes = bytes;
        this.source = source;
        this.length = length;
        this.textOffset = textOffset;
        this.imageSize = imageSize;
        this.flags = flags;
        this.decompressed = decompressed;
        this.raw = raw;
    }

    /**
     * Opens and validates {@code file}. {@code maxSize} (normally the RAM size) caps both the file
     * and the inflated size of a gzip'd kernel, so a hostile or mistaken file cannot exhaust the
     * heap. A plain Image is validated from its first {@link #HEAD_SIZE} bytes and its size, and
     * kept only as an open file ({@link HeldFile}) that each load reads straight into guest memory;
     * a gzip'd one is inflated once and its Image kept.
     */
    public static KernelImage read(Path file, long maxSize) throws BootImageException {
        HeldFile f = HeldFile.open("kernel", file, maxSize, Kind.KERNEL_TOO_LARGE);
        byte[] head = new byte[(int) Math.min(f.size(), HEAD_SIZE)];
        f.read(MemorySegment.ofArray(head));
        if (isGzip(head)) return parse(file, f.readAll(), maxSize);
        return validate(file, head, f.size(), false, null, f);
    }

    /** Validates kernel bytes already in memory; {@code file} is only used in messages. */
    public static KernelImage parse(Path file, byte[] raw, long maxSize) throws BootImageException {
        String who = BootFiles.subject("kernel", file);
        boolean gz = isGzip(raw);
        byte[] b = gz ? gunzip(who, raw, maxSize) : raw;
        return validate(file, b, b.length, gz, b, null);
    }

    private static boolean isGzip(byte[] raw) {
        return raw.length >= 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b;
    }

    /**
     * Checks the header in {@code b} (the whole Image, or its first bytes when {@code source} holds
     * the rest) of an Image {@code length} bytes long.
     */
    private static KernelImage validate(
            Path file, byte[] b, long length, boolean gz, byte[] whole, HeldFile source)
            throws BootImageException {
        String who = BootFiles.subject("kernel", file);
        if (length == 0) {
            throw new BootImageException(
                    Kind.TRUNCATED, who, gz ? "is empty after gunzip" : "is empty");
        }
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        // EFI zboot (CONFIG_EFI_ZBOOT) wraps a compressed Image in a PE file; it needs EFI to
        // unpack. It has no Image magic, so it would otherwise be entered raw and crash.
        if (length >= 8 && h.getShort(0) == 0x5a4d && h.getInt(4) == 0x676d697a) {
            throw new BootImageException(
                    Kind.UNSUPPORTED_FORMAT,
                    who,
                    "is an EFI zboot image (vmlinuz.efi); boot the plain Image or Image.gz instead");
        }
        boolean magicPresent = length >= MAGIC_OFFSET + 4 && h.getInt(MAGIC_OFFSET) == MAGIC;
        if (!magicPresent && !gz) {
            return new KernelImage(file, whole, source, length, RAW_OFFSET, 0, 0, false, true);
        }
        if (!magicPresent) {
            String found =
                    length >= MAGIC_OFFSET + 4
                            ? String.format(
                                    "bad magic 0x%08x at offset 0x%x (expected 0x%08x \"ARM\\x64\")",
                                    h.getInt(MAGIC_OFFSET), MAGIC_OFFSET, MAGIC)
                            : String.format("only %d bytes, no arm64 Image header", length);
            throw new BootImageException(
                    Kind.BAD_MAGIC,
                    who,
                    found
                            + " inside the gzip; only an arm64 Image is inflated (give a raw binary uncompressed)");
        }
        if (length < HEADER_SIZE) {
            throw new BootImageException(
                    Kind.TRUNCATED,
                    who,
                    String.format(
                            "truncated: %d bytes%s, shorter than the %d-byte arm64 Image header",
                            length, gz ? " after gunzip" : "", HEADER_SIZE));
        }
        long textOffset = h.getLong(8), imageSize = h.getLong(16), flags = h.getLong(24);
        if ((flags & 1) != 0) {
            throw new BootImageException(
                    Kind.BIG_ENDIAN,
                    who,
                    "is a big-endian kernel (flags bit 0); KVM guests here run little-endian");
        }
        if (imageSize == 0) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "{0}: image_size is 0 (pre-3.17 kernel); assuming text_offset 0x80000",
                    who);
            textOffset = LEGACY_TEXT_OFFSET;
        } else if (textOffset < 0 || imageSize < 0) {
            throw new BootImageException(
                    Kind.KERNEL_TOO_LARGE,
                    who,
                    String.format(
                            "header asks for text_offset 0x%x and image_size 0x%x, beyond any address space",
                            textOffset, imageSize));
        }
        checkPeSections(who, h, length);
        return new KernelImage(
                file, whole, source, length, textOffset, imageSize, flags, gz, false);
    }

    /**
     * The Image header has no file-size field, but EFI-stub kernels (every distro kernel) carry a
     * PE section table whose raw data must all be in the file: the one reliable test for a cut-off
     * copy.
     */
    private static void checkPeSections(String who, ByteBuffer h, long length)
            throws BootImageException {
        if (h.getShort(0) != 0x5a4d) return; // no "MZ": not an EFI-stub kernel
        long pe = Integer.toUnsignedLong(h.getInt(PE_OFFSET_FIELD));
        if (pe == 0) return;
        if (pe + 24 > length) {
            throw new BootImageException(
                    Kind.TRUNCATED,
                    who,
                    String.format(
                            "truncated: %d bytes, but the PE header is at offset 0x%x",
                            length, pe));
        }
        // headers beyond the bytes read (only a hand-made file puts them there): not ours to judge
        if (pe + 24 > h.limit()) return;
        if (h.getInt((int) pe) != 0x00004550) return; // "PE\0\0" absent: not ours to judge
        int sections = Short.toUnsignedInt(h.getShort((int) pe + 6));
        int optSize = Short.toUnsignedInt(h.getShort((int) pe + 20));
        long table = pe + 24 + optSize;
        long needed = table + 40L * sections;
        for (int i = 0; i < sections && table + 40L * (i + 1) <= h.limit(); i++) {
            int s = (int) (table + 40L * i);
            long rawSize = Integer.toUnsignedLong(h.getInt(s + 16));
            long rawPtr = Integer.toUnsignedLong(h.getInt(s + 20));
            if (rawSize != 0) needed = Math.max(needed, rawPtr + rawSize);
        }
        if (needed > length) {
            throw new BootImageException(
                    Kind.TRUNCATED,
                    who,
                    String.format(
                            "truncated: %d bytes, but its PE section table needs %d",
                            length, needed));
        }
    }

    private static byte[] gunzip(String who, byte[] gz, long maxSize) throws BootImageException {
        long cap = Math.min(maxSize, Integer.MAX_VALUE - 16);
        // Kernels compress about 3-4x; start near that to avoid most regrowth copies.
        ByteArrayOutputStream out =
                new ByteArrayOutputStream((int) Math.min(cap, Math.max(4096L, gz.length * 4L)));
        byte[] buf = new byte[64 * 1024];
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz), buf.length)) {
            long total = 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                total += n;
                if (total > cap) {
                    throw new BootImageException(
                            Kind.KERNEL_TOO_LARGE,
                            who,
                            "decompresses to more than "
                                    + BootMath.human(cap)
                                    + ", the memory available");
                }
                out.write(buf, 0, n);
            }
        } catch (IOException e) { // ZipException, EOFException: the gzip stream itself is bad
            // EOFException carries no message when the stream ends inside the gzip header
            String why =
                    e.getMessage() != null
                            ? e.getMessage()
                            : e instanceof EOFException ? "ends unexpectedly" : "unreadable";
            throw new BootImageException(Kind.CORRUPT_GZIP, who, "corrupt gzip data: " + why, e);
        }
        return out.toByteArray();
    }

    public Path file() {
        return file;
    }

    /**
     * Copies the (decompressed) Image into {@code dst}, exactly {@link #length()} bytes: from
     * memory, or read again from the held file, refused if that was rewritten in place meanwhile.
     */
    public void copyTo(MemorySegment dst) throws BootImageException {
        if (dst.byteSize() != length) throw new IllegalArgumentException("wrong destination size");
        if (source != null) {
            source.read(dst);
        } else {
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, dst, 0, length);
        }
    }

    public long length() {
        return length;
    }

    /**
     * Offset of the Image from its 2 MiB aligned base (0x80000 for legacy kernels, 0 for recent
     * ones).
     */
    public long textOffset() {
        return textOffset;
    }

    /** image_size from the header; 0 for legacy kernels, which give no size. */
    public long headerImageSize() {
        return imageSize;
    }

    /**
     * Bytes from the load address the kernel may use at once (text, data, BSS, initial page
     * tables): image_size, or the file length when the header gives none (or, oddly, a smaller
     * one).
     */
    public long reservedSize() {
        return Math.max(imageSize, length);
    }

    public long flags() {
        return flags;
    }

    /** Kernel page size in KiB from flags bits 1-2, or 0 when the kernel does not say. */
    public int pageSizeKiB() {
        return switch ((int) (flags >>> 1) & 3) {
            case 1 -> 4;
            case 2 -> 16;
            case 3 -> 64;
            default -> 0;
        };
    }

    /**
     * flags bit 3: the kernel may be placed anywhere in 48-bit physical space, not only near RAM
     * base.
     */
    public boolean placeAnywhere() {
        return (flags & 8) != 0;
    }

    /** True when the file was gzip'd and the inflated Image is kept in memory. */
    public boolean decompressed() {
        return decompressed;
    }

    /**
     * True for a raw binary (no Image magic): loaded at RAM base + {@link #RAW_OFFSET}, entered at
     * its first byte, no header fields ({@link #flags()} 0, {@link #headerImageSize()} 0).
     */
    public boolean raw() {
        return raw;
    }
}
