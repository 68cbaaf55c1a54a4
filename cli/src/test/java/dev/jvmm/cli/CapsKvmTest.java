package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.jvmm.kvm.testing.KvmTest;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code jvmm caps} on real arm64 KVM (kvm tier): the lab's L1 kernels offer everything jvmm uses.
 * The stock one (Debian's 6.12) and the newer one ({@code LAB_KERNEL=new}, 6.15 or later: PSCI 1.3,
 * {@code VENDOR_HYP_BMAP_2} with DISCOVER_IMPL) differ where the kernel's KVM does.
 */
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
        assertEquals(true, caps.get("vgic_v3"));
        assertEquals(true, caps.get("smccc_filter"));
        Map<String, Object> pv = (Map<String, Object>) caps.get("pv_time");
        assertEquals(true, pv.get("vcpu_attribute"));
        Map<String, Object> psci = (Map<String, Object>) caps.get("psci");
        assertNotNull(psci.get("version"));
        Map<String, Object> bm = (Map<String, Object>) caps.get("hypercall_bitmaps");
        assertEquals("0x1", bm.get("std"));
        assertEquals("0x1", bm.get("std_hyp"));
        assertEquals("0x3", bm.get("vendor_hyp"));
        assertEquals(true, pv.get("usable"));
        boolean bmap2 = atLeast((String) caps.get("kernel"), 6, 15);
        if (bmap2) {
            assertEquals("0x0", bm.get("vendor_hyp_2"), "VENDOR_HYP_BMAP_2 starts empty");
            assertEquals("1.3", psci.get("version"), "6.15+'s KVM");
            assertEquals(
                    java.util.List.of("0.1", "0.2", "1.0", "1.1", "1.2", "1.3"),
                    psci.get("selectable"));
        } else {
            assertEquals(null, bm.get("vendor_hyp_2"), "no VENDOR_HYP_BMAP_2 before 6.15");
            assertEquals("1.1", psci.get("version"), "Debian 6.12's KVM");
            assertEquals(java.util.List.of("0.1", "0.2", "1.0", "1.1"), psci.get("selectable"));
        }
        Map<String, Object> svc = (Map<String, Object>) caps.get("hypercall_services");
        assertEquals(
                java.util.List.of(
                        "trng",
                        "pv-time",
                        "kvm-features",
                        "ptp",
                        "discover-impl-ver",
                        "discover-impl-cpus"),
                java.util.List.copyOf(svc.keySet()));
        for (String s : new String[] {"trng", "pv-time", "kvm-features", "ptp"})
            assertEquals(true, svc.get(s), s);
        for (String s : new String[] {"discover-impl-ver", "discover-impl-cpus"}) {
            assertTrue(svc.containsKey(s), s);
            assertEquals(bmap2 ? Boolean.TRUE : null, svc.get(s), s + " needs VENDOR_HYP_BMAP_2");
        }
        Map<String, Object> irq = (Map<String, Object>) caps.get("irqchip");
        assertEquals(true, irq.get("gicv3"));
        assertEquals(true, irq.get("gicv3_its"), "6.12's KVM has the ITS device");
        assertEquals(true, irq.get("msi_devid"), "an ITS makes MSIs carry a device ID");
        assertEquals(
                false,
                irq.get("gicv2_emulation"),
                "the lab's QEMU GICv3 has no GICv2 compatibility interface");
        assertEquals(java.util.List.of("gicv3", "gicv3-its"), irq.get("selectable"));
        Map<String, Object> cpu = (Map<String, Object>) caps.get("cpu_features");
        assertEquals(true, cpu.get("sve"), "QEMU's -cpu max has SVE");
        java.util.List<Integer> vls =
                ((java.util.List<Number>) cpu.get("sve_vector_lengths"))
                        .stream().map(Number::intValue).toList();
        assertEquals(128, vls.getFirst(), "every SVE implementation has 128-bit vectors: " + vls);
        for (int vl : vls) assertEquals(0, vl % 128, "a multiple of a quadword: " + vls);
        assertEquals(vls.stream().sorted().distinct().toList(), vls);
        assertEquals(true, cpu.get("ptrauth_address"));
        assertEquals(true, cpu.get("ptrauth_generic"));
        assertEquals(true, cpu.get("ptrauth"));
        Map<String, Object> lock = (Map<String, Object>) caps.get("memory_lock");
        assertEquals("unlimited", lock.get("lockable"), "root in the lab has CAP_IPC_LOCK");
        assertEquals(
                false,
                lock.get("kvm_pre_fault_memory"),
                "no arm64 KVM_PRE_FAULT_MEMORY in either lab kernel");
        // L1 is QEMU's -cpu max: one PMUv3, listed by perf as armv8_pmuv3 on both CPUs
        Map<String, Object> pmu = (Map<String, Object>) caps.get("pmu");
        assertEquals(true, pmu.get("usable"));
        assertEquals("armv8_pmuv3", pmu.get("guest_pmu_from"));
        Map<String, Object> hostPmu =
                (Map<String, Object>)
                        ((Map<String, Object>) pmu.get("host_pmus")).get("armv8_pmuv3");
        assertEquals("0-1", hostPmu.get("cpus"));
        assertTrue(((Number) hostPmu.get("type")).intValue() > 0, hostPmu.toString());
    }

    @Test
    void tableHasOneLinePerValue() {
        MainTest.Result r = MainTest.run("caps");
        assertEquals(0, r.code(), r.err());
        boolean bmap2 = atLeast(System.getProperty("os.version"), 6, 15);
        assertTrue(r.out().contains("smccc_filter"), r.out());
        assertTrue(
                r.out().contains(String.format("%-38s %s%n", "irqchip.gicv3_its", "yes")), r.out());
        assertTrue(r.out().contains("hypercall_bitmaps.vendor_hyp"), r.out());
        assertTrue(
                r.out()
                        .contains(
                                String.format(
                                        "%-38s %s%n",
                                        "psci.selectable",
                                        bmap2 ? "0.1 0.2 1.0 1.1 1.2 1.3" : "0.1 0.2 1.0 1.1")),
                r.out());
        assertTrue(
                r.out()
                        .contains(
                                String.format(
                                        "%-38s %s%n",
                                        "hypercall_services.discover-impl-cpus",
                                        bmap2 ? "yes" : "absent")),
                r.out());
        assertTrue(r.out().contains(String.format("%-38s %s%n", "pmu.usable", "yes")), r.out());
        assertTrue(
                r.out()
                        .contains(
                                String.format(
                                        "%-38s %s%n", "pmu.host_pmus.armv8_pmuv3.cpus", "0-1")),
                r.out());
    }

    /** Whether a kernel release string ("6.12.118+deb13-arm64") is at least MAJOR.MINOR. */
    private static boolean atLeast(String release, int major, int minor) {
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release);
        assertTrue(m.find(), "kernel release " + release);
        int a = Integer.parseInt(m.group(1)), b = Integer.parseInt(m.group(2));
        return a > major || (a == major && b >= minor);
    }
}
