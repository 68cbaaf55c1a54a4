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
 */
public final class KernelLoader {
    public static final long KERNEL_ALIGN = 2 * MIB;
    public static final long DTB_MAX_SIZE = 2 * MIB;

    /** Command-line limit including the terminating NUL (arm64 COMMAND_LINE_SIZE). */
    public static final int CMDLINE_MAX = 2048;

    /** Page aligned for the largest (64 KiB) granule so the kernel can free initrd pages whole. */
    public static final long INITRD_ALIGN = 64 * KIB;

    static final long WINDOW_ALIGN = GIB, WINDOW_SIZE = 32 * GIB;

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
        return new BootImages(k, rd, cmd, plan(k, rd, DTB_MAX_SIZE, ramBase, ramSize));
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
        long dtb = BootMath.alignDown(top - DTB_MAX_SIZE, KERNEL_ALIGN);
        if (top - DTB_MAX_SIZE < 0 || dtb < kernelEnd) {
            throw new BootImageException(
                    Kind.NO_FIT,
                    kwho,
                    String.format(
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
