package dev.jvmm.core.hypercall.shared;

import static org.junit.jupiter.api.Assertions.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jvmm.core.hypercall.FakeRegisters;
import dev.jvmm.core.hypercall.SmcccRouter;
import dev.jvmm.kvm.RegIds;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Jazzer target for the pKVM memory-sharing service, driven only through the SMCCC router (as a
 * guest's HVCs arrive) and the service's public list of regions, checked against a model that is a
 * plain set of 4 KiB granules: random HYP_MEMINFO / MEM_SHARE / MEM_UNSHARE sequences (aligned,
 * misaligned, below, inside, across and past RAM, counts 0, small, huge, x3 set), the SMC32 IDs
 * nobody claims, guest reboots. Invariants: every answer (x0..x3) is what the model predicts, a
 * refused call changes nothing (all or nothing), the listed regions are exactly the model's maximal
 * runs in address order, PC and x4..x17 untouched. A plain {@code mvn verify} replays {@code
 * SharedRegionFuzzTestInputs/calls/}; {@code JAZZER_FUZZ=1} fuzzes.
 */
class SharedRegionFuzzTest {
    private static final long G = SharedRegionService.GRANULE;
    private static final int[] IDS = {
        SharedRegionService.HYP_MEMINFO,
        SharedRegionService.MEM_SHARE,
        SharedRegionService.MEM_UNSHARE,
        0x8600_0003,
        0x8600_0004
    };

    @FuzzTest(maxDuration = "30s")
    void calls(FuzzedDataProvider data) {
        long base =
                data.pickValue(new long[] {0x8000_0000L, 0, 1L << 32, 0x7fff_ffff_f000_0000L & -G});
        int n = data.pickValue(new int[] {1, 7, 64, 257});
        SharedRegionService service = new SharedRegionService(base, n * G);
        SmcccRouter router = SmcccRouter.builder().service(service).build();
        FakeRegisters r = new FakeRegisters().context(0xffff_8000_0010_0000L, 0x3c5);
        BitSet model = new BitSet(n);

        for (int ops = 0; ops < 300 && data.remainingBytes() > 0; ops++) {
            if (data.consumeInt(0, 40) == 0) { // guest reboot
                service.reset();
                model.clear();
                continue;
            }
            int fn = data.pickValue(IDS);
            long ipa =
                    switch (data.consumeInt(0, 5)) {
                        case 0 -> data.consumeLong();
                        case 1 ->
                                base
                                        + data.consumeLong(-3, n + 3) * G
                                        + data.consumeInt(0, 3) * 1024L;
                        default -> base + data.consumeLong(-2, n + 2) * G;
                    };
            long count =
                    switch (data.consumeInt(0, 5)) {
                        case 0 -> data.consumeLong();
                        case 1 -> 0;
                        default -> data.consumeLong(1, n + 2);
                    };
            long x3 = data.consumeInt(0, 9) == 0 ? data.consumeLong() : 0;
            boolean meminfoArgs = data.consumeBoolean();
            long[] args =
                    fn == SharedRegionService.HYP_MEMINFO && meminfoArgs
                            ? new long[] {0, 0, 0}
                            : new long[] {ipa, count, x3};
            for (int i = 4; i < 18; i++) r.with(RegIds.x(i), 0x9000L + i);
            r.call(fn, args);
            long pc = r.pc();
            BitSet before = (BitSet) model.clone();

            router.handle(0, fn, data.consumeBoolean(), r);

            long[] expected = expect(fn, args, base, n, model);
            for (int i = 0; i < 4; i++) {
                assertEquals(
                        expected[i],
                        r.x(i),
                        String.format(
                                "x%d after 0x%08x(0x%x, 0x%x, 0x%x)",
                                i, fn, args[0], args[1], args[2]));
            }
            if (expected[0] != 0 || fn == SharedRegionService.HYP_MEMINFO)
                assertEquals(before, model, "a refused call changed the model");
            assertEquals(pc, r.pc(), "PC moved");
            for (int i = 4; i < 18; i++) assertEquals(0x9000L + i, r.x(i), "x" + i + " touched");
            assertEquals(runs(model, base), service.regions().regions(), "shared regions");
        }
    }

    /** The model's answer, applying a successful change to {@code model}. */
    private static long[] expect(int fn, long[] a, long base, int n, BitSet model) {
        if (fn == SharedRegionService.HYP_MEMINFO) {
            return a[0] == 0 && a[1] == 0 && a[2] == 0
                    ? new long[] {G, 1, 0, 0}
                    : new long[] {-3, 0, 0, 0};
        }
        if (fn != SharedRegionService.MEM_SHARE && fn != SharedRegionService.MEM_UNSHARE)
            return new long[] {-1, 0, 0, 0};
        long ipa = a[0], count = a[1] == 0 ? 1 : a[1];
        long[] refused = {-3, 0, 0, 0};
        if (a[2] != 0 || (ipa % G != 0 && Long.remainderUnsigned(ipa, G) != 0)) return refused;
        if (Long.compareUnsigned(ipa, base) < 0) return refused;
        long first = Long.divideUnsigned(ipa - base, G);
        if (Long.compareUnsigned(first, n) >= 0 || Long.compareUnsigned(count, n - first) > 0)
            return refused;
        boolean share = fn == SharedRegionService.MEM_SHARE;
        int from = (int) first, to = (int) (first + count);
        for (int g = from; g < to; g++) if (model.get(g) == share) return refused;
        model.set(from, to, share);
        return new long[] {0, count, 0, 0};
    }

    private static List<SharedRegion> runs(BitSet model, long base) {
        List<SharedRegion> out = new ArrayList<>();
        for (int i = model.nextSetBit(0); i >= 0; ) {
            int end = model.nextClearBit(i);
            out.add(new SharedRegion(base + i * G, (end - i) * G));
            i = model.nextSetBit(end);
        }
        return out;
    }
}
