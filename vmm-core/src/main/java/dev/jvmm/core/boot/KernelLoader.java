package dev.jvmm.core.boot;

import static dev.jvmm.core.boot.BootMath.GIB;
import static dev.jvmm.core.boot.BootMath.KIB;
import static dev.jvmm.core.boot.BootMath.MIB;
import static dev.jvmm.core.boot.BootMath.human;

import dev.jvmm.core.boot.BootImageException.Kind;
import dev.jvmm.core.memory.GuestMemory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Places and loads an arm64 kernel, initrd and DTB per Documentation/arch/arm64/booting.rst.
 *
 * <p>Layout, low to high in the one RAM region:
 *
 * <pre>
 *   RAM base ─ 2 MiB aligned base ─ +text_offset: Image ... image_size ─ free for the kernel ─ initrd ─ DTB (2 MiB) ─ top
 * </pre>
 *
 * The kernel goes at the lowest 2 MiB aligned address because memory below it was unusable before
 * v4.6 and flags bit 3 = 0 asks for "as close as possible to the base of DRAM". Like kvmtool and
 * Firecracker, the DTB and initrd go high so the kernel keeps the most contiguous memory after its
 * image (booting.rst: with image_size 0 the space it needs there is "effectively unbound"). "Top"
 * is the end of RAM, capped at the end of the 1 GiB aligned, 32 GiB window that must hold both
 * kernel and initrd. The DTB gets a whole 2 MiB aligned block: 8-byte aligned, at most 2 MiB, never
 * sharing a 2 MiB block with anything needing other attributes, and its size need not be known to
 * plan.
 *
 * <p>A raw binary ({@link KernelImage#raw()}) is placed as kvmtool places it (arm/kvm.c {@code
 * kvm__arch_load_kernel_image}), since bare-metal programs written for {@code lkvm run} count on
 * it: the file at RAM base + 0x80000, entered at its first byte with x0 = the DTB; the DTB and
 * initrd in the first 256 MiB of RAM ("Linux requires the initrd and dtb to be mapped inside
 * lowmem"), the DTB in the last 2 MiB aligned block below min(RAM size, 256 MiB) (kvmtool: limit
 * minus its 64 KiB FDT_MAX_SIZE plus 2 MiB, aligned up to 2 MiB, which is that block), the initrd
 * directly below the DTB. The one difference: kvmtool aligns the initrd to 4 bytes, jvmm to 64 KiB
 * like any initrd here; a program finds it through {@code /chosen/linux,initrd-start} either way.
 * Nothing of a raw file is reserved beyond its length: it has no image_size for its BSS.
 */
public final class KernelLoader {
    public static final long KERNEL_ALIGN = 2 * MIB;
    public static final long DTB_MAX_SIZE = 2 * MIB;

    /** Command-line limit including the terminating NUL (arm64 COMMAND_LINE_SIZE). */
    public static final int CMDLINE_MAX = 2048;

    /** Page aligned for the largest (64 KiB) granule so the kernel can free initrd pages whole. */
    public static final long INITRD_ALIGN = 64 * KIB;

    static final long WINDOW_ALIGN = GIB, WINDOW_SIZE = 32 * GIB;

    /** kvmtool keeps the DTB and initrd of a raw binary below RAM base + 256 MiB. */
    public static final long RAW_LOW_MEMORY = 256 * MIB;

    private static final System.Logger LOG = System.getLogger(KernelLoader.class.getName());

    private KernelLoader() {}

    /**
     * Reads and validates everything from files and the RAM geometry alone: call before opening
     * /dev/kvm.
     */
    public static BootImages prepare(
            Path kernel, Path initrd, String cmdline, long ramBase, long ramSize)
            throws BootImageException {
        byte[] cmd = commandLine(cmdline);
        InitrdFile rd = initrd == null ? null : InitrdFile.read(initrd, ramSize);
        KernelImage k = KernelImage.read(kernel, ramSize);
        BootPlacement p = plan(k, rd, DTB_MAX_SIZE, ramBase, ramSize);
        if (k.raw()) {
            LOG.log(
                    System.Logger.Level.INFO,
                    "{0}: no arm64 Image magic at offset 0x38: loaded raw ({1}) at 0x{2}, entered"
                            + " at its first byte, x0 = DTB at 0x{3}",
                    BootFiles.subject("kernel", kernel),
                    human(k.length()),
                    Long.toHexString(p.kernelLoad()),
                    Long.toHexString(p.dtbAddress()));
        }
        return new BootImages(k, rd, cmd, p);
    }

    /** NUL-terminated UTF-8 bytes of {@code cmdline}, rejecting lines the kernel would truncate. */
    public static byte[] commandLine(String cmdline) throws BootImageException {
        String who = "kernel command line";
        if (cmdline.indexOf('\0') >= 0) {
            throw new BootImageException(Kind.CMDLINE_INVALID, who, "contains a NUL character");
        }
        byte[] utf8 = cmdline.getBytes(StandardCharsets.UTF_8);
        if (utf8.length + 1 > CMDLINE_MAX) {
            throw new BootImageException(
                    Kind.CMDLINE_TOO_LONG,
                    who,
                    String.format(
                            "is %d bytes including the terminating NUL; the limit is %d",
                            utf8.length + 1, CMDLINE_MAX));
        }
        byte[] z = new byte[utf8.length + 1];
        System.arraycopy(utf8, 0, z, 0, utf8.length);
        return z;
    }

    /**
     * Computes the placement. Pure: depends only on sizes, so it is the same check at {@link
     * #prepare} time and at {@link #load} time.
     *
     * @param initrd null for none
     * @param dtbSize the DTB's size, or {@link #DTB_MAX_SIZE} when it is not built yet
     */
    public static BootPlacement plan(
            KernelImage kernel, InitrdFile initrd, long dtbSize, long ramBase, long ramSize)
            throws BootImageException {
        if (ramBase < 0 || ramSize <= 0 || BootMath.add(ramBase, ramSize) < 0) {
            throw new IllegalArgumentException(
                    String.format("bad RAM region base 0x%x size 0x%x", ramBase, ramSize));
        }
        String kwho = BootFiles.subject("kernel", kernel.file());
        checkDtbSize(dtbSize);
        long ramEnd = ramBase + ramSize;
        long base = BootMath.alignUp(ramBase, KERNEL_ALIGN);
        long load = BootMath.add(base, kernel.textOffset());
        long kernelEnd = BootMath.add(load, kernel.reservedSize());
        if (base < 0 || load < 0 || kernelEnd < 0 || kernelEnd > ramEnd) {
            if (kernel.raw()) {
                throw new BootImageException(
                        Kind.KERNEL_TOO_LARGE,
                        kwho,
                        String.format(
                                "raw binary of %s at 0x%x (RAM base + 0x80000) does not fit in %s of RAM",
                                human(kernel.length()), load, human(ramSize)));
            }
            throw new BootImageException(
                    Kind.KERNEL_TOO_LARGE,
                    kwho,
                    String.format(
                            "needs %s at 0x%x (text_offset 0x%x + image_size 0x%x) but RAM is %s at 0x%x",
                            human(kernel.reservedSize()),
                            load,
                            kernel.textOffset(),
                            kernel.reservedSize(),
                            human(ramSize),
                            ramBase));
        }
        long top = Math.min(ramEnd, BootMath.alignDown(load, WINDOW_ALIGN) + WINDOW_SIZE);
        if (kernel.raw()) {
            long low = BootMath.add(base, RAW_LOW_MEMORY);
            if (low >= 0) top = Math.min(ramEnd, low);
        }
        long dtb = BootMath.alignDown(top - DTB_MAX_SIZE, KERNEL_ALIGN);
        if (top - DTB_MAX_SIZE < 0 || dtb < kernelEnd) {
            throw new BootImageException(
                    Kind.NO_FIT,
                    kwho,
                    kernel.raw()
                            ? String.format(
                                    "raw binary (%s at 0x%x) and the 2 MiB device tree block do not fit in the first"
                                            + " %s of RAM, where they go as under kvmtool",
                                    human(kernel.reservedSize()),
                                    load,
                                    human(Math.min(ramSize, RAW_LOW_MEMORY)))
                            : String.format(
                                    "kernel (%s at 0x%x) and the 2 MiB device tree block do not fit in %s of RAM",
                                    human(kernel.reservedSize()), load, human(ramSize)));
        }
        long dtbEnd = dtb + DTB_MAX_SIZE;
        if (initrd == null) return new BootPlacement(load, kernelEnd, dtb, dtbEnd, dtb, dtb);

        String iwho = initrd.subject();
        if (initrd.size() > ramSize) {
            throw new BootImageException(
                    Kind.INITRD_TOO_LARGE,
                    iwho,
                    String.format(
                            "is %s, larger than RAM (%s)", human(initrd.size()), human(ramSize)));
        }
        long start = BootMath.alignDown(dtb - initrd.size(), INITRD_ALIGN);
        if (initrd.size() > dtb || start < kernelEnd) {
            throw new BootImageException(
                    Kind.NO_FIT,
                    iwho,
                    String.format(
                            "initrd (%s) does not fit between the kernel (ends 0x%x) and the device tree (0x%x) in %s of RAM",
                            human(initrd.size()), kernelEnd, dtb, human(ramSize)));
        }
        return new BootPlacement(load, kernelEnd, dtb, dtbEnd, start, start + initrd.size());
    }

    /**
     * Plans against {@code mem} and copies the kernel and initrd into it; the DTB follows via
     * {@link #writeDtb}.
     */
    public static BootPlacement load(
            GuestMemory mem, KernelImage kernel, InitrdFile initrd, long dtbSize)
            throws BootImageException {
        BootPlacement p = plan(kernel, initrd, dtbSize, mem.base(), mem.size());
        kernel.copyTo(mem.slice(p.kernelLoad(), kernel.length()));
        if (initrd != null) initrd.copyTo(mem.slice(p.initrdStart(), initrd.size()));
        return p;
    }

    public static BootPlacement load(GuestMemory mem, BootImages images) throws BootImageException {
        return load(mem, images.kernel(), images.initrd(), DTB_MAX_SIZE);
    }

    /** Copies a built DTB to its reserved block, refusing one the kernel would not map. */
    public static void writeDtb(GuestMemory mem, BootPlacement p, byte[] dtb)
            throws BootImageException {
        checkDtbSize(dtb.length);
        mem.write(p.dtbAddress(), dtb);
    }

    private static void checkDtbSize(long dtbSize) throws BootImageException {
        if (dtbSize < 0 || dtbSize > DTB_MAX_SIZE) {
            throw new BootImageException(
                    Kind.DTB_TOO_LARGE,
                    "device tree",
                    String.format(
                            "is %d bytes; arm64 kernels accept at most %d (2 MiB)",
                            dtbSize, DTB_MAX_SIZE));
        }
    }
}
