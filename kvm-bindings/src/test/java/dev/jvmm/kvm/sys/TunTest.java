package dev.jvmm.kvm.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Interface-name rules; opening real taps needs root and is exercised in the lab (boot tier). */
class TunTest {
    @ParameterizedTest
    @ValueSource(strings = {"tap0", "a", "jvmm-tap.1_x", "fifteen-chars-x"})
    void acceptsKernelValidNames(String name) {
        assertNull(Tun.invalidNameReason(name));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "sixteen-chars-xx|interface names have at most 15 characters",
                ".|'.' and '..' are not interface names",
                "..|'.' and '..' are not interface names",
                "a/b|interface names cannot contain '/'",
                "a:b|interface names cannot contain ':'",
                "a b|interface names cannot contain ' '",
                "tä|interface names cannot contain '\\u00e4'"
            })
    void refusesWhatTheKernelRefuses(String name, String reason) {
        assertEquals(reason, Tun.invalidNameReason(name));
    }

    @Test
    void emptyNameAndOpenOfABadNameFailBeforeAnySyscall() {
        assertEquals("an interface name cannot be empty", Tun.invalidNameReason(""));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Tun.openTap("a/b"));
        assertEquals("tap 'a/b': interface names cannot contain '/'", e.getMessage());
    }
}
