package dev.jvmm.core.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StateJsonTest {
    @SuppressWarnings("ArrayRecordComponent") // plain snapshot data, never compared with equals
    record Reg(long id, byte[] value) {}

    record Cpu(int index, boolean on, long pc, List<Reg> regs, Map<String, Long> named) {}

    @Test
    void recordsRoundTripExactly() {
        Cpu cpu =
                new Cpu(
                        3,
                        true,
                        0xffff_8000_1234_5678L,
                        List.of(new Reg(0x6030_0000_0014_0000L, new byte[] {1, 0, (byte) 0xff})),
                        Map.of("cntvct", Long.MIN_VALUE));
        String json = StateJson.write(cpu);
        Cpu back = StateJson.read(json, Cpu.class, "vcpu.3");
        assertEquals(cpu.index(), back.index());
        assertEquals(cpu.on(), back.on());
        assertEquals(cpu.pc(), back.pc());
        assertEquals(cpu.named(), back.named());
        assertEquals(cpu.regs().get(0).id(), back.regs().get(0).id());
        assertArrayEquals(cpu.regs().get(0).value(), back.regs().get(0).value());
    }

    @Test
    void unknownFieldIsRefusedNamingThePart() {
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () -> StateJson.read("{\"index\":1,\"bogus\":2}", Cpu.class, "vcpu.1"));
        assertTrue(e.getMessage().startsWith("snapshot: vcpu.1: "), e.getMessage());
        assertTrue(e.getMessage().contains("bogus"), e.getMessage());
    }

    @Test
    void malformedJsonIsOneLine() {
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () -> StateJson.read("{\"index\":", Cpu.class, "uart"));
        assertTrue(e.getMessage().startsWith("snapshot: uart: "), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    @Test
    void missingPrimitiveIsNamedNotAJavaClass() {
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () ->
                                StateJson.read(
                                        "{\"index\":1,\"on\":true,\"pc\":4,\"regs\":[{\"value\":\"AA==\"}]}",
                                        Cpu.class,
                                        "vcpu.1"));
        assertEquals("snapshot: vcpu.1: field regs[0].id is missing", e.getMessage());
        SnapshotException top =
                assertThrows(
                        SnapshotException.class,
                        () -> StateJson.read("{\"on\":true}", Cpu.class, "vcpu.1"));
        assertEquals("snapshot: vcpu.1: field index is missing", top.getMessage());
    }
}
