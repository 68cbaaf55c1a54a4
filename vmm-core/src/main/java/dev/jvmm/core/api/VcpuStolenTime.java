package dev.jvmm.core.api;

/**
 * Time vCPU {@code cpu} was runnable but not running on the host, as its PV-time record reports it.
 */
public record VcpuStolenTime(int cpu, long stolenNanos) {}
