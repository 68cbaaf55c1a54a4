package dev.jvmm.core.boot;

/**
 * Everything {@code jvmm run} needs to boot, validated and placed before any KVM fd exists.
 *
 * @param initrd null when booting without one
 * @param commandLine NUL-terminated bytes for {@code /chosen/bootargs}
 */
@SuppressWarnings("ArrayRecordComponent") // commandLine is handed to the FDT writer, never compared
public record BootImages(
        KernelImage kernel, InitrdFile initrd, byte[] commandLine, BootPlacement placement) {}
