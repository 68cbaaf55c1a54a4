package dev.jvmm.core.caps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.arch.aarch64.CpuOffer;
import dev.jvmm.core.firmware.BitmapRegister;
import dev.jvmm.core.firmware.HostFirmware;
import dev.jvmm.core.firmware.HypercallService;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CapabilityProbeTest {
    @Test
    void servicesAreOfferableFromTheLimitAbsentWithoutTheRegisterAndNeverWhenVmmImplemented() {
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
        assertEquals(false, CapabilityProbe.offerable(h, HypercallService.TRNG));
        assertNull(CapabilityProbe.offerable(h, HypercallService.PV_TIME), "no STD_HYP_BMAP");
        assertEquals(true, CapabilityProbe.offerable(h, HypercallService.PTP));
        assertEquals(false, CapabilityProbe.offerable(h, HypercallService.DISCOVER_IMPL_CPUS));
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
