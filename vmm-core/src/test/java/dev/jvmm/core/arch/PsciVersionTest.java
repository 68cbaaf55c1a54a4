package dev.jvmm.core.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PsciVersionTest {
    @Test
    void parsesEveryVersionKvmAcceptsWithItsRegisterValue() {
        assertEquals(0x1L, PsciVersion.parse("0.1").kvmRegisterValue());
        assertEquals(0x2L, PsciVersion.parse("0.2").kvmRegisterValue());
        assertEquals(0x10000L, PsciVersion.parse("1.0").kvmRegisterValue());
        assertEquals(0x10001L, PsciVersion.parse(" 1.1 ").kvmRegisterValue());
        assertEquals(0x10003L, PsciVersion.parse("1.3").kvmRegisterValue());
        for (PsciVersion v : PsciVersion.KVM_SETTABLE) {
            assertEquals(v, PsciVersion.fromKvmRegister(v.kvmRegisterValue()));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.4", "2.0", "1", "v1.0", "1.0.0", "", "0.0", "99999.1"})
    void refusesAnythingElseNamingIt(String text) {
        var e = assertThrows(IllegalArgumentException.class, () -> PsciVersion.parse(text));
        assertEquals(
                "PSCI version '" + text + "': KVM accepts 0.1, 0.2, 1.0, 1.1, 1.2, 1.3",
                e.getMessage());
    }

    @Test
    void ordersByMajorThenMinor() {
        List<PsciVersion> sorted = PsciVersion.KVM_SETTABLE.stream().sorted().toList();
        assertEquals(PsciVersion.KVM_SETTABLE, sorted);
        assertTrue(PsciVersion.V1_0.compareTo(PsciVersion.V0_2) > 0);
        assertFalse(PsciVersion.V0_1.usesPsci02Feature());
        assertTrue(PsciVersion.V0_2.usesPsci02Feature());
    }
}
