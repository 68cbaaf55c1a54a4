package dev.jvmm.core.arch.aarch64;

/**
 * One register of an in-kernel device in a snapshot: where it is (a vGIC distributor or
 * redistributor offset, an ICC system-register encoding, a LEVEL_INFO interrupt ID, an ITS offset)
 * and its value (a 32-bit register's value fits in the low 32 bits).
 */
public record DeviceRegister(long offset, long value) {}
