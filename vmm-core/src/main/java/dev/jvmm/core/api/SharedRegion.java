package dev.jvmm.core.api;

/** One range of guest memory the guest shared with the host: {@code [ipa, ipa + size)}. */
public record SharedRegion(long ipa, long size) {}
