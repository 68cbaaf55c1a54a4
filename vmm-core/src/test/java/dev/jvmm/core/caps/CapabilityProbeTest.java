package dev.jvmm.core.caps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.arch.aarch64.CpuOffer;
import dev.jvmm.core.arch.aarch64.HostPmu;
import dev.jvmm.core.firmware.BitmapRegister;
import dev.jvmm.core.firmware.HostFirmware;
import dev.jvmm.core.firmware.HypercallService;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CapabilityProbeTest {
    @Test
    void servicesAreOfferableFromTheLimitAbsentWithoutTheRegisterAndVmmOnesWithTheFilter() {
        HostFirmware h =
                new HostFirmware(
                        PsciVersion.V1_3,
                        Map.of(
                                BitmapRegister.STD,
                                0x0L,
                                BitmapRegister.VENDOR_HYP,
                                0x3L,
                                BitmapRegister.VENDOR_HYP_2,
                                0x0L),
                        true);
        assertEquals(false, CapabilityProbe.offerable(h, HypercallService.TRNG, true));
        assertNull(CapabilityProbe.offerable(h, HypercallService.PV_TIME, true), "no STD_HYP_BMAP");
        assertEquals(true, CapabilityProbe.offerable(h, HypercallService.PTP, true));
        // VENDOR_HYP_BMAP_2 resets to 0, yet jvmm answers its calls wherever KVM forwards them
        assertEquals(true, CapabilityProbe.offerable(h, HypercallService.DISCOVER_IMPL_CPUS, true));
        assertEquals(
                false, CapabilityProbe.offerable(h, HypercallService.DISCOVER_IMPL_CPUS, false));
        HostFirmware old = new HostFirmware(PsciVersion.V1_1, Map.of(), true);
        assertNull(
                CapabilityProbe.offerable(old, HypercallService.DISCOVER_IMPL_VER, true),
                "a 6.12 KVM has no VENDOR_HYP_BMAP_2");
    }

    @Test
    void irqchipSectionListsWhatKvmEmulatesAndWhatARunAccepts() {
        Map<String, Object> m = CapabilityProbe.irqchip(true, true, true, false);
        assertEquals(
                List.of("gicv3", "gicv3_its", "msi_devid", "gicv2_emulation", "selectable"),
                List.copyOf(m.keySet()));
        assertEquals(true, m.get("gicv3_its"));
        assertEquals(true, m.get("msi_devid"));
        assertEquals(false, m.get("gicv2_emulation"));
        assertEquals(List.of("gicv3", "gicv3-its"), m.get("selectable"));

        Map<String, Object> noIts = CapabilityProbe.irqchip(true, false, null, true);
        assertEquals(false, noIts.get("gicv3_its"));
        assertNull(noIts.get("msi_devid"), "nothing to ask without an ITS");
        assertEquals(true, noIts.get("gicv2_emulation"));
        assertEquals(List.of("gicv3"), noIts.get("selectable"), "jvmm builds no GICv2 machine");

        // KVM registers its ITS device with the GICv3 one; without a GICv3 it is no use to jvmm
        Map<String, Object> v2only = CapabilityProbe.irqchip(false, true, null, true);
        assertEquals(false, v2only.get("gicv3_its"));
        assertEquals(List.of(), v2only.get("selectable"));
    }

    @Test
    void pmuSectionSaysWhetherPmuIsUsableWhichHostPmuBacksItAndListsTheHostPmus() {
        HostPmu little = new HostPmu("armv8_cortex_a53", 8, HostPmu.parseCpuList("0-3"));
        HostPmu big = new HostPmu("armv8_cortex_a72", 9, HostPmu.parseCpuList("4-5"));
        Map<String, Object> m = new LinkedHashMap<>();
        CapabilityProbe.probePmu(m, true, List.of(little, big), HostPmu.parseCpuList("4"));
        assertEquals(List.of("usable", "guest_pmu_from", "host_pmus"), List.copyOf(m.keySet()));
        assertEquals(true, m.get("usable"));
        assertEquals("armv8_cortex_a72", m.get("guest_pmu_from"));
        assertEquals(
                Map.of(
                        "armv8_cortex_a53", Map.of("type", 8, "cpus", "0-3"),
                        "armv8_cortex_a72", Map.of("type", 9, "cpus", "4-5")),
                m.get("host_pmus"));

        m.clear();
        CapabilityProbe.probePmu(m, true, List.of(little, big), HostPmu.parseCpuList("0-5"));
        assertEquals(false, m.get("usable"), "CPUs of both kinds: --pmu is refused");
        assertNull(m.get("guest_pmu_from"));

        m.clear();
        HostPmu one = new HostPmu("armv8_pmuv3", 10, HostPmu.parseCpuList("0-1"));
        CapabilityProbe.probePmu(m, true, List.of(one), new BitSet());
        assertEquals(true, m.get("usable"));
        assertEquals("armv8_pmuv3", m.get("guest_pmu_from"));

        m.clear();
        CapabilityProbe.probePmu(m, false, List.of(one), new BitSet());
        assertEquals(false, m.get("usable"), "no KVM_CAP_ARM_PMU_V3");
        assertEquals(Map.of("armv8_pmuv3", Map.of("type", 10, "cpus", "0-1")), m.get("host_pmus"));
    }

    @Test
    void cpuFeaturesListSveWithItsVectorLengthsAndBothPointerAuthenticationKinds() {
        Map<String, Object> cpu = new LinkedHashMap<>();
        CapabilityProbe.putCpuFeatures(
                cpu, new CpuOffer(true, true, false, true), List.of(128, 256, 512));
        assertEquals(
                List.of(
                        "sve",
                        "sve_vector_lengths",
                        "ptrauth",
                        "ptrauth_address",
                        "ptrauth_generic",
                        "mte"),
                List.copyOf(cpu.keySet()));
        assertEquals(true, cpu.get("sve"));
        assertEquals(List.of(128, 256, 512), cpu.get("sve_vector_lengths"));
        assertEquals(false, cpu.get("ptrauth"), "the guest gets PAuth only with both kinds");
        assertEquals(true, cpu.get("ptrauth_address"));
        assertEquals(false, cpu.get("ptrauth_generic"));
        assertEquals(true, cpu.get("mte"));
    }

    @Test
    void withoutSveTheVectorLengthsAreAbsent() {
        Map<String, Object> cpu = new LinkedHashMap<>();
        CapabilityProbe.putCpuFeatures(cpu, new CpuOffer(false, true, true, false), List.of());
        assertEquals(false, cpu.get("sve"));
        assertTrue(cpu.containsKey("sve_vector_lengths"));
        assertNull(cpu.get("sve_vector_lengths"));
        assertEquals(true, cpu.get("ptrauth"));
    }
}
