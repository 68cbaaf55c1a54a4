package dev.jvmm.core.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MacAddressTest {
    @Test
    void parsesAnyCaseAndPrintsLowercase() {
        MacAddress m = MacAddress.parse("52:54:00:AB:cd:0F");
        assertEquals(0x525400abcd0fL, m.value());
        assertEquals("52:54:00:ab:cd:0f", m.toString());
        assertArrayEquals(new byte[] {0x52, 0x54, 0x00, (byte) 0xab, (byte) 0xcd, 0x0f}, m.bytes());
        assertTrue(m.isLocallyAdministered());
        assertEquals(m, MacAddress.parse("52:54:00:ab:cd:0f"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "52:54:00:ab:cd",
                "52:54:00:ab:cd:0f:11",
                "52-54-00-ab-cd-0f",
                "5:54:00:ab:cd:0f",
                "52:54:00:ab:cd:0g",
                "",
                "525400abcd0f",
                "52:54:00:ab:cd:",
                "+5:54:00:ab:cd:0f"
            })
    void refusesMalformedText(String text) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> MacAddress.parse(text));
        assertEquals(
                "'" + text + "' is not a MAC address (six hex octets like 52:54:00:12:34:56)",
                e.getMessage());
    }

    @Test
    void refusesMulticastAndZero() {
        assertEquals(
                "01:00:5e:00:00:01 is a multicast address; a NIC needs a unicast one (even first octet)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> MacAddress.parse("01:00:5e:00:00:01"))
                        .getMessage());
        assertEquals(
                "ff:ff:ff:ff:ff:ff is a multicast address; a NIC needs a unicast one (even first octet)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> MacAddress.parse("ff:ff:ff:ff:ff:ff"))
                        .getMessage());
        assertEquals(
                "00:00:00:00:00:00 is not a usable MAC address",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> MacAddress.parse("00:00:00:00:00:00"))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MacAddress(1L << 48));
    }

    @Test
    void derivedAddressesAreStableLocalUnicastAndDifferPerSeed() {
        MacAddress a = MacAddress.derived("tap0");
        assertEquals(a, MacAddress.derived("tap0"));
        assertNotEquals(a, MacAddress.derived("tap1"));
        assertTrue(a.isLocallyAdministered());
        assertEquals(
                0x02,
                a.bytes()[0] & 0x03,
                "locally administered (bit 1) and unicast (bit 0 clear): " + a);
        // pinned: scripts and guest configurations may rely on the address a tap name gives
        assertEquals(
                "4e:7a:e5:26:09:81",
                a.toString()); // sha256("jvmm-nic:tap0")[0..6], bits 0/1 set to 10
    }
}
