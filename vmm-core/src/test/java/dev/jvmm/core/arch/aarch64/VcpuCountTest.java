package dev.jvmm.core.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.JvmmException;
import dev.jvmm.core.UnsupportedRequestException;
import org.junit.jupiter.api.Test;

class VcpuCountTest {
    @Test
    void aboveTheOnlineCpusIsAWarningNotARefusal() {
        assertTrue(VcpuCount.warning(2, 2).isEmpty());
        assertTrue(VcpuCount.warning(1, 4).isEmpty());
        String w = VcpuCount.warning(8, 2).orElseThrow();
        assertTrue(w.startsWith("8 vCPUs on a host with 2 online CPUs"), w);
        assertFalse(w.contains("\n"), w);
        assertTrue(VcpuCount.warning(8, 0).isEmpty(), "no answer from KVM: nothing to say");
    }

    @Test
    void aboveKvmsMaximumIsRefusedOnOneLineAsAHostLimit() {
        VcpuCount.refuseAboveMax(512, 512);
        VcpuCount.refuseAboveMax(9, 0); // KVM did not say: KVM_CREATE_VCPU decides
        UnsupportedRequestException e =
                assertThrows(
                        UnsupportedRequestException.class, () -> VcpuCount.refuseAboveMax(9, 8));
        assertEquals(
                "9 vCPUs: this host's KVM allows at most 8 per VM (KVM_CAP_MAX_VCPUS)",
                e.getMessage());
        assertEquals(JvmmException.Kind.HOST_UNSUPPORTED, JvmmException.kindOf(e));
    }
}
