package dev.jvmm.core.api;

/**
 * How often the guest called one SMCCC function that jvmm handles in userspace.
 *
 * @param functionId the SMCCC function ID (x0 of the call), a 32-bit value
 * @param name e.g. {@code SDEI_EVENT_SIGNAL}; null when jvmm has no name for it
 */
public record HypercallCount(long functionId, String name, long count) {}
