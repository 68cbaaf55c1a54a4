package dev.jvmm.core.caps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.firmware.BitmapRegister;
import dev.jvmm.core.firmware.HostFirmware;
import dev.jvmm.core.firmware.HypercallService;
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
}
