package dev.jvmm.core.firmware;

import java.util.List;

/**
 * What a snapshot keeps of PV stolen time (key {@code pvtime}; see {@link PvTimeSnapshot}). KVM
 * keeps each vCPU's stolen-time count only in the records' memory, which jvmm maps outside guest
 * RAM, so the snapshot carries that memory here: without it the restored guest's steal clock would
 * jump back to 0.
 *
 * @param enabled whether the guest had PV stolen time at all; when false the other fields are empty
 * @param recordIpas per vCPU, index = vCPU id, the guest physical address of its record (what
 *     KVM_ARM_VCPU_PVTIME_IPA got)
 * @param regionSize the records region's size in bytes
 * @param region the records region as KVM last wrote it, up to its last non-zero byte: the rest of
 *     {@code regionSize} is zero (a snapshot written before 2026-12-07 (night) holds the whole
 *     region, which reads the same)
 */
@SuppressWarnings("ArrayRecordComponent") // plain snapshot data, never compared with equals
public record PvTimeState(boolean enabled, List<Long> recordIpas, long regionSize, byte[] region) {}
