package dev.jvmm.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.jvmm.kvm.testing.KvmTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jvmm caps} on real arm64 KVM (kvm tier): the lab's 6.12 kernel offers everything jvmm uses. */
@KvmTest
class CapsKvmTest {
    @Test
    @SuppressWarnings("unchecked")
    void jsonReportsTheFeaturesJvmmUses() throws IOException {
        MainTest.Result r = MainTest.run("caps", "--json");
        assertEquals(0, r.code(), r.err());
        Map<String, Object> caps = JSON.std.mapFrom(r.out());
        assertEquals(12, ((Number) caps.get("api_version")).intValue());
        assertEquals("aarch64", caps.get("host_arch"));
        assertTrue(((Number) caps.get("max_ipa_bits")).intValue() >= 40);
        assertEquals(Boolean.TRUE, caps.get("vgic_v3"));
        assertEquals(Boolean.TRUE, caps.get("smccc_filter"));
        Map<String, Object> pv = (Map<String, Object>) caps.get("pv_time");
        assertEquals(Boolean.TRUE, pv.get("vcpu_attribute"));
        Map<String, Object> psci = (Map<String, Object>) caps.get("psci");
        assertNotNull(psci.get("version"));
        Map<String, Object> bm = (Map<String, Object>) caps.get("hypercall_bitmaps");
        assertEquals("0x1", bm.get("std"));
        assertEquals("0x1", bm.get("std_hyp"));
        assertEquals("0x3", bm.get("vendor_hyp"));
    }

    @Test
    void tableHasOneLinePerValue() {
        MainTest.Result r = MainTest.run("caps");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("smccc_filter"), r.out());
        assertTrue(r.out().contains("hypercall_bitmaps.vendor_hyp"), r.out());
    }
}
