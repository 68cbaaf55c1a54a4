package dev.jvmm.core.boot;

/**
 * Where the boot images go in guest physical memory. All ranges are half-open and disjoint.
 *
 * @param kernelLoad address the Image is copied to and the primary vCPU's PC (2 MiB aligned base +
 *     text_offset; + 0x80000 for a raw binary)
 * @param kernelEnd end of the kernel's reservation (load + image_size)
 * @param dtbAddress where the DTB goes (x0 at entry); 2 MiB aligned, so it never crosses a 2 MiB
 *     block
 * @param dtbRegionEnd end of the 2 MiB region reserved for the DTB
 * @param initrdStart first byte of the initrd ({@code linux,initrd-start}); equal to initrdEnd
 *     without initrd
 * @param initrdEnd one past its last byte ({@code linux,initrd-end})
 */
public record BootPlacement(
        long kernelLoad,
        long kernelEnd,
        long dtbAddress,
        long dtbRegionEnd,
        long initrdStart,
        long initrdEnd) {

    /** The kernel entry point: arm64 Images and raw binaries are entered at their first byte. */
    public long entryPoint() {
        return kernelLoad;
    }

    public boolean hasInitrd() {
        return initrdEnd > initrdStart;
    }

    public long initrdSize() {
        return initrdEnd - initrdStart;
    }

    @Override
    public String toString() {
        return String.format(
                "kernel [0x%x, 0x%x) dtb [0x%x, 0x%x) initrd [0x%x, 0x%x)",
                kernelLoad, kernelEnd, dtbAddress, dtbRegionEnd, initrdStart, initrdEnd);
    }
}
