package dev.jvmm.core.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.jvmm.core.arch.aarch64.CounterState;
import dev.jvmm.core.arch.aarch64.GicState;
import dev.jvmm.core.arch.aarch64.ItsState;
import dev.jvmm.core.arch.aarch64.VcpuState;
import dev.jvmm.core.device.Uart8250State;
import dev.jvmm.core.firmware.PvTimeState;
import dev.jvmm.core.hypercall.SmcccFilterState;
import dev.jvmm.core.hypercall.sdei.SdeiState;
import dev.jvmm.core.hypercall.shared.SharedRegionsState;
import dev.jvmm.core.virtio.VirtioState;
import dev.jvmm.core.virtio.pci.VirtioPciState;
import java.io.IOException;
import java.lang.reflect.Array;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A restore binds the manifest and every part's record straight from the one parsed tree: for a
 * tree that fits, the record must be exactly the one jackson-jr makes from the text (values and
 * their Java types: Long in a {@code Map<String, Long>}, byte arrays, nested records, lists), and
 * for anything else the binder must step aside so that jackson-jr's refusal stays the message.
 */
class RecordBinderTest {
    /** Every record type a restore reads: the manifest and each part's state. */
    private static final List<Class<? extends Record>> TYPES =
            List.of(
                    SnapshotManifest.class,
                    VcpuState.class,
                    CounterState.class,
                    GicState.class,
                    ItsState.class,
                    VirtioState.class,
                    VirtioPciState.class,
                    Uart8250State.class,
                    PvTimeState.class,
                    SmcccFilterState.class,
                    SdeiState.class,
                    SharedRegionsState.class);

    @Test
    void everyRestoredRecordTypeBindsExactlyAsJacksonJrReadsIt() throws IOException {
        List<String> bound = new ArrayList<>();
        for (Class<? extends Record> type : TYPES) {
            String json = sampleJson(type);
            Record viaText = StateJson.read(json, type, "test");
            Object tree = JSON.std.anyFrom(json);
            Record direct = StateJson.bind(tree, type);
            assertNotNull(direct, type.getSimpleName() + " did not bind: " + json);
            assertSameValue(viaText, direct, type.getSimpleName());
            assertEquals(json, StateJson.write(direct), type.getSimpleName());
            bound.add(type.getSimpleName());
        }
        assertEquals(TYPES.size(), bound.size());
    }

    /**
     * A sample of {@code type} as jackson-jr writes it: every component present, numbers beyond int
     * where the type is long, two-element lists, bytes that are not all zero. Components whose
     * record constructor checks them are filled until it accepts (the writer must accept it too).
     */
    private static String sampleJson(Class<? extends Record> type) throws IOException {
        Object tree = sample(type, 0);
        String json = JSON.std.asString(tree);
        // the canonical text: as jackson-jr writes the record read from the sample
        return StateJson.write(StateJson.read(json, type, "sample"));
    }

    private static Object sample(Type t, int depth) {
        if (t instanceof Class<?> c) {
            if (c == long.class || c == Long.class) return 0x1_0000_0001L + depth;
            if (c == int.class || c == Integer.class) return 1 + depth;
            if (c == boolean.class || c == Boolean.class) return true;
            if (c == String.class) return "s" + depth;
            if (c == byte[].class) return "AQL/";
            if (c.isRecord()) {
                Map<String, Object> m = new LinkedHashMap<>();
                for (RecordComponent rc : c.getRecordComponents())
                    m.put(rc.getName(), sample(rc.getGenericType(), depth + 1));
                return m;
            }
            if (c == Object.class) return Map.of("k", 1);
        }
        if (t instanceof ParameterizedType p) {
            Type[] a = p.getActualTypeArguments();
            if (p.getRawType() == List.class)
                return List.of(sample(a[0], depth), sample(a[0], depth + 1));
            if (p.getRawType() == Map.class) return Map.of("a", sample(a[1], depth));
        }
        throw new AssertionError("no sample for " + t);
    }

    @Test
    void aManifestReadOnceGivesTheRecordsOfTheOldThreeParsePath() throws IOException {
        SnapshotManifest m =
                new SnapshotManifest(
                        SnapshotFormat.NAME,
                        SnapshotFormat.VERSION,
                        "test",
                        "2026-12-07T00:00:00Z",
                        SnapshotFilesTest.guest(),
                        SnapshotFilesTest.host(),
                        new MemoryImage(
                                "memory.bin", 1L << 33, 4096, List.of(1L, 2L, 9L, 3L), "0a0b0c0d"),
                        List.of(
                                SnapshotWriter.partState(
                                        "uart",
                                        new Uart8250State(
                                                1,
                                                2,
                                                3,
                                                4,
                                                5,
                                                6,
                                                7,
                                                8,
                                                9,
                                                true,
                                                false,
                                                new byte[] {65, 66})),
                                SnapshotWriter.partState(
                                        "vcpu.0",
                                        new CounterState(0x1234_5678_9abcL, 25_000_000L))));
        String json = StateJson.write(m);
        Object tree = JSON.std.anyFrom(json);
        SnapshotManifest direct = StateJson.fromTree(tree, SnapshotManifest.class, "m");
        SnapshotManifest old = StateJson.read(json, SnapshotManifest.class, "m");
        assertSameValue(old, direct, "manifest");
        assertEquals(StateJson.write(m), StateJson.write(direct));
        // the parts' records, straight from the manifest's tree
        assertEquals(
                StateJson.read(
                        StateJson.write(new CounterState(0x1234_5678_9abcL, 25_000_000L)),
                        CounterState.class,
                        "c"),
                StateJson.fromTree(direct.parts().get(1).state(), CounterState.class, "vcpu.0"));
    }

    @SuppressWarnings("ArrayRecordComponent") // plain snapshot data
    record Regs(int index, long pc, byte[] value, List<Long> ids, Map<String, Long> named) {
        Regs {
            if (index < 0) throw new IllegalArgumentException("index " + index + " is negative");
        }
    }

    @Test
    void whatDoesNotFitExactlyIsLeftToJacksonJrAndItsMessage() throws IOException {
        String good =
                "{\"index\":1,\"pc\":4,\"value\":\"AAE=\",\"ids\":[1,5000000000],\"named\":{\"a\":7}}";
        Regs r = StateJson.bind(JSON.std.anyFrom(good), Regs.class);
        assertNotNull(r);
        assertArrayEquals(new byte[] {0, 1}, r.value());
        assertEquals(List.of(1L, 5_000_000_000L), r.ids());
        assertInstanceOf(Long.class, r.named().get("a"));
        String[] misfits = {
            "{\"index\":1,\"pc\":4,\"value\":\"AAE=\",\"ids\":[],\"named\":{},\"bogus\":1}", // unknown
            "{\"pc\":4,\"value\":\"AAE=\",\"ids\":[],\"named\":{}}", // a primitive missing
            "{\"index\":null,\"pc\":4}", // null for a primitive
            "{\"index\":5000000000,\"pc\":4}", // beyond int
            "{\"index\":1,\"pc\":4.5}", // not an integer
            "{\"index\":\"1\",\"pc\":4}", // a string for a number
            "{\"index\":1,\"pc\":4,\"value\":\"AAE\"}", // unpadded base64
            "{\"index\":1,\"pc\":4,\"value\":\"A A=\"}", // not base64
            "{\"index\":1,\"pc\":4,\"ids\":[1,null]}", // a null in a list
            "{\"index\":1,\"pc\":4,\"named\":{\"a\":\"x\"}}", // a string in a Map<String, Long>
            "{\"index\":-1,\"pc\":4}", // the record's own check
            "[1,2]", // not an object
        };
        for (String json : misfits) {
            assertNull(StateJson.bind(JSON.std.anyFrom(json), Regs.class), json);
            // fromTree then refuses (or reads) exactly as reading the text does
            Object viaText =
                    outcome(
                            () ->
                                    StateJson.read(
                                            JSON.std.asString(JSON.std.anyFrom(json)),
                                            Regs.class,
                                            "p"));
            Object viaTree =
                    outcome(() -> StateJson.fromTree(JSON.std.anyFrom(json), Regs.class, "p"));
            assertEquals(String.valueOf(viaText), String.valueOf(viaTree), json);
        }
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () -> StateJson.fromTree(JSON.std.anyFrom(misfits[10]), Regs.class, "p"));
        assertEquals("snapshot: p: index -1 is negative", e.getMessage());
        assertTrue(
                assertThrows(
                                SnapshotException.class,
                                () ->
                                        StateJson.fromTree(
                                                JSON.std.anyFrom(misfits[0]), Regs.class, "p"))
                        .getMessage()
                        .contains("bogus"));
    }

    private interface Read {
        Object get() throws IOException;
    }

    /** What reading gives: the record's text, or the refusal's message. */
    private static Object outcome(Read r) throws IOException {
        try {
            Object o = r.get();
            return o instanceof Record rec ? StateJson.write(rec) : o;
        } catch (SnapshotException e) {
            return "refused: " + e.getMessage();
        }
    }

    /** Equal values of the same Java types all the way down (arrays by content). */
    private static void assertSameValue(Object want, Object got, String where) {
        if (want == null || got == null) {
            assertEquals(want, got, where);
            return;
        }
        // maps and lists by content (jackson-jr's own Map class or a LinkedHashMap: both keep the
        // order), everything else of the same class
        boolean maps = want instanceof Map<?, ?> && got instanceof Map<?, ?>;
        boolean lists = want instanceof List<?> && got instanceof List<?>;
        boolean collection = maps || lists;
        if (!collection) assertEquals(want.getClass(), got.getClass(), where);
        if (want instanceof Record) {
            for (RecordComponent rc : want.getClass().getRecordComponents()) {
                try {
                    rc.getAccessor().setAccessible(true);
                    assertSameValue(
                            rc.getAccessor().invoke(want),
                            rc.getAccessor().invoke(got),
                            where + "." + rc.getName());
                } catch (ReflectiveOperationException e) {
                    throw new LinkageError(where, e);
                }
            }
        } else if (want instanceof List<?> a && got instanceof List<?> b) {
            assertEquals(a.size(), b.size(), where);
            for (int i = 0; i < a.size(); i++)
                assertSameValue(a.get(i), b.get(i), where + "[" + i + "]");
        } else if (want instanceof Map<?, ?> a && got instanceof Map<?, ?> b) {
            assertEquals(List.copyOf(a.keySet()), List.copyOf(b.keySet()), where);
            for (Object k : a.keySet()) assertSameValue(a.get(k), b.get(k), where + "." + k);
        } else if (want.getClass().isArray()) {
            assertEquals(Array.getLength(want), Array.getLength(got), where);
            for (int i = 0; i < Array.getLength(want); i++)
                assertEquals(Array.get(want, i), Array.get(got, i), where + "[" + i + "]");
        } else {
            assertEquals(want, got, where);
        }
    }
}
