package dev.jvmm.core.hypercall;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.kvm.RegIds;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class SmcccRouterTest {
    /** A service answering with a fixed function of the call, recording what it saw. */
    static final class Svc implements SmcccService {
        final String name;
        final List<FunctionRange> claims;
        final Function<SmcccCall, SmcccResult> answer;
        final List<String> seen = new ArrayList<>();
        final List<String> after = new ArrayList<>();

        Svc(String name, Function<SmcccCall, SmcccResult> answer, FunctionRange... claims) {
            this.name = name;
            this.answer = answer;
            this.claims = List.of(claims);
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public List<FunctionRange> claims() {
            return claims;
        }

        @Override
        public synchronized SmcccResult call(SmcccCall c) {
            seen.add(Smccc.hex(c.functionId()) + "@" + c.cpu());
            return answer.apply(c);
        }

        @Override
        public synchronized void afterCall(SmcccCall c) {
            after.add(Smccc.hex(c.functionId()));
        }
    }

    private static final FunctionRange A = FunctionRange.parse("0xC4000020+32");
    private static final FunctionRange B = FunctionRange.parse("0xC6000002-0xC6000004");

    @Test
    void routesToTheClaimingServiceAndWritesX0ToX3Only() {
        Svc a = new Svc("a", c -> new SmcccResult.Values(c.arg(1) + 1, 2, 3, 4), A);
        Svc b = new Svc("b", c -> SmcccResult.of(-3), B);
        SmcccRouter r = SmcccRouter.builder().service(a).service(b).build();
        FakeRegisters regs = new FakeRegisters().context(0x4000, 0x3c5).call(0xC4000025, 41);
        r.handle(1, 0xC4000025, false, regs);
        assertEquals(List.of("0xC4000025@1"), a.seen);
        assertEquals(List.of("0xC4000025"), a.after, "afterCall runs once the result is written");
        assertEquals(List.of(42L, 2L, 3L, 4L), List.of(regs.x(0), regs.x(1), regs.x(2), regs.x(3)));
        assertEquals(
                List.of(RegIds.x(0), RegIds.x(1), RegIds.x(2), RegIds.x(3)),
                regs.writes,
                "only x0..x3 are written, never the PC");
        assertEquals(0x4000, regs.pc());
        assertEquals(0x1004, regs.x(4), "x4 and up are preserved");

        regs.clearLog();
        r.handle(0, 0xC6000004, true, regs);
        assertEquals(-3L, regs.x(0));
        assertEquals(0L, regs.x(1), "unused result registers are zeroed, as KVM does");
        assertFalse(regs.writes.contains(RegIds.PC));
    }

    @Test
    void unknownIdsGetNotSupported() {
        Svc a = new Svc("a", c -> SmcccResult.of(7), A);
        SmcccRouter r = SmcccRouter.builder().service(a).build();
        FakeRegisters regs = new FakeRegisters().context(0x4000, 0x5);
        r.handle(0, 0xC4000040, false, regs); // just past the claim
        assertEquals(Smccc.NOT_SUPPORTED, regs.x(0));
        assertEquals(0, regs.x(1));
        assertTrue(a.seen.isEmpty());
        assertNull(r.serviceFor(0xC400001F));
        assertSame(a, r.serviceFor(0xC400003F));
        assertEquals(0x4000, regs.pc());
    }

    @Test
    void overlappingClaimsAreRefusedAtBuildTime() {
        Svc a = new Svc("sdei", c -> SmcccResult.of(0), A);
        Svc b =
                new Svc(
                        "other",
                        c -> SmcccResult.of(0),
                        FunctionRange.parse("0xC400003F-0xC4000041"));
        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class,
                        () -> SmcccRouter.builder().service(a).service(b).build());
        assertEquals(
                "SMCCC range 0xC400003F-0xC4000041 of other overlaps 0xC4000020-0xC400003F of sdei",
                e.getMessage());
    }

    @Test
    void denyWinsOverAServiceAndIsCounted() {
        Svc b = new Svc("shared", c -> SmcccResult.of(0, 9), B);
        SmcccRouter r =
                SmcccRouter.builder().service(b).deny(FunctionRange.parse("0xC6000003")).build();
        FakeRegisters regs = new FakeRegisters().context(0x4000, 0x5);
        r.handle(0, 0xC6000003, false, regs);
        assertEquals(Smccc.NOT_SUPPORTED, regs.x(0));
        assertTrue(b.seen.isEmpty(), "a denied ID never reaches the service");
        r.handle(0, 0xC6000004, false, regs);
        assertEquals(0, regs.x(0));
        assertEquals(9, regs.x(1));
        assertEquals(Map.of(0xC6000003L, 1L, 0xC6000004L, 1L), r.callCounts());
        assertTrue(r.isDenied(0xC6000003L));
        assertFalse(r.isDenied(0xC6000004L));
        // one forwarded range: the deny lies inside the claim
        assertEquals(List.of(new FilterRange(B, FilterRange.Action.FWD_TO_USER)), r.filterRanges());
    }

    @Test
    void filterRangesAreCoalescedSortedAndCoverDenies() {
        Svc a = new Svc("a", c -> SmcccResult.of(0), A);
        Svc b = new Svc("b", c -> SmcccResult.of(0), B, FunctionRange.single(0x8600_0000L));
        SmcccRouter r =
                SmcccRouter.builder()
                        .service(a)
                        .service(b)
                        .deny(FunctionRange.parse("0xC4000040+16")) // adjoins A: one range
                        .deny(FunctionRange.parse("0xC2000000-0xC20000FF"))
                        .denyInKvm(FunctionRange.parse("0x84000050+16"))
                        .build();
        assertEquals(
                List.of(
                        new FilterRange(
                                FunctionRange.parse("0x84000050-0x8400005F"),
                                FilterRange.Action.DENY),
                        new FilterRange(
                                FunctionRange.single(0x8600_0000L), FilterRange.Action.FWD_TO_USER),
                        new FilterRange(
                                FunctionRange.parse("0xC2000000-0xC20000FF"),
                                FilterRange.Action.FWD_TO_USER),
                        new FilterRange(
                                FunctionRange.parse("0xC4000020-0xC400004F"),
                                FilterRange.Action.FWD_TO_USER),
                        new FilterRange(B, FilterRange.Action.FWD_TO_USER)),
                r.filterRanges());
        FilterRange sdei = r.filterRanges().get(3);
        assertEquals(0xC4000020, sdei.base());
        assertEquals(48, sdei.count());
        assertEquals(2, sdei.action().kvmValue());
        assertEquals(1, FilterRange.Action.DENY.kvmValue());
    }

    @Test
    void nothingClaimedMeansNoFilter() {
        assertEquals(List.of(), SmcccRouter.builder().build().filterRanges());
    }

    @Test
    void kvmDenyOverlappingAForwardIsRefused() {
        Svc a = new Svc("a", c -> SmcccResult.of(0), A);
        assertThrows(
                IllegalStateException.class,
                () ->
                        SmcccRouter.builder()
                                .service(a)
                                .denyInKvm(FunctionRange.parse("0xC4000030"))
                                .build());
    }

    @Test
    void archCallsCannotBeDenied() {
        dev.jvmm.core.JvmmException e =
                assertThrows(
                        dev.jvmm.core.JvmmException.class,
                        () ->
                                SmcccRouter.builder()
                                        .deny(FunctionRange.parse("0x80000000-0x80000001")));
        assertTrue(
                e.getMessage()
                        .startsWith(
                                "SMCCC range 0x80000000-0x80000001 overlaps the Arm architecture calls"),
                e.getMessage());
    }

    @Test
    void smc32ArgumentsKeepOnlyTheLow32Bits() {
        List<Long> seen = new ArrayList<>();
        Svc s =
                new Svc(
                        "s",
                        c -> {
                            seen.add(c.arg(1));
                            return SmcccResult.of(0);
                        },
                        FunctionRange.single(0x8600_0010L),
                        FunctionRange.single(0xC600_0010L));
        SmcccRouter r = SmcccRouter.builder().service(s).build();
        FakeRegisters regs = new FakeRegisters().with(RegIds.x(1), 0xdead_beef_1234_5678L);
        r.handle(0, 0x86000010, false, regs);
        regs.with(RegIds.x(1), 0xdead_beef_1234_5678L);
        r.handle(0, 0xC6000010, false, regs);
        assertEquals(List.of(0x1234_5678L, 0xdead_beef_1234_5678L), seen);
    }

    @Test
    void wideResultsWriteX0ToX17AndWrittenResultsNothing() {
        long[] wide = new long[18];
        for (int i = 0; i < wide.length; i++) wide[i] = 100L + i;
        Svc w = new Svc("w", c -> new SmcccResult.Wide(wide), FunctionRange.single(0xC600_0020L));
        Svc n = new Svc("n", c -> new SmcccResult.Written(), FunctionRange.single(0xC600_0021L));
        SmcccRouter r = SmcccRouter.builder().service(w).service(n).build();
        FakeRegisters regs = new FakeRegisters().context(0x4000, 0x5);
        r.handle(0, 0xC6000020, false, regs);
        for (int i = 0; i < 18; i++) assertEquals(100 + i, regs.x(i), "x" + i);
        assertEquals(0x1012, regs.x(18), "x18 untouched");
        assertEquals(18, regs.writes.size());
        regs.clearLog();
        r.handle(0, 0xC6000021, false, regs);
        assertEquals(List.of(), regs.writes);
        assertThrows(IllegalArgumentException.class, () -> new SmcccResult.Wide(new long[19]));
    }

    @Test
    void countersAreExactUnderConcurrentCalls() throws Exception {
        Svc a = new Svc("a", c -> SmcccResult.of(0), A);
        SmcccRouter r = SmcccRouter.builder().service(a).build();
        int threads = 4, calls = 5000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int cpu = t;
            ts.add(
                    Thread.ofPlatform()
                            .start(
                                    () -> {
                                        FakeRegisters regs = new FakeRegisters();
                                        try {
                                            go.await();
                                        } catch (InterruptedException e) {
                                            return;
                                        }
                                        for (int i = 0; i < calls; i++)
                                            r.handle(
                                                    cpu,
                                                    i % 2 == 0 ? 0xC4000020 : 0x12345678,
                                                    false,
                                                    regs);
                                    }));
        }
        go.countDown();
        for (Thread t : ts) t.join();
        assertEquals(
                Map.of(
                        0xC4000020L,
                        (long) threads * calls / 2,
                        0x12345678L,
                        (long) threads * calls / 2),
                r.callCounts());
    }

    @Test
    void countKeysAreUnsigned() {
        SmcccRouter r = SmcccRouter.builder().build();
        r.handle(0, 0xC4000020, false, new FakeRegisters());
        assertEquals(0xC4000020L, r.callCounts().firstKey());
    }

    /**
     * Issue 11: a guest calling every ID of a wide --smccc deny range made one counter per distinct
     * ID. Calls outside jvmm's services now get their own counter for the first few IDs only; the
     * rest are summed, and the IDs jvmm serves keep exact counters whatever came first.
     */
    @Test
    void aGuestCalling100000DistinctDeniedIdsLeavesBoundedCounters() {
        Svc a = new Svc("sdei", c -> SmcccResult.of(0), A);
        SmcccRouter r =
                SmcccRouter.builder()
                        .service(a)
                        .deny(FunctionRange.parse("0xC2000000+0x100000"))
                        .build();
        FakeRegisters regs = new FakeRegisters();
        for (int i = 0; i < 100_000; i++) r.handle(0, 0xC200_0000 + i, false, regs);
        r.handle(1, 0xC4000020, false, regs);
        r.handle(1, 0xC4000020, false, regs);
        assertEquals(
                SmcccRouter.MAX_UNSERVED_IDS + 1,
                r.callCounts().size(),
                "the first denied IDs and one served ID");
        assertEquals(1L, r.callCounts().get(0xC2000000L));
        assertEquals(
                2L,
                r.callCounts().get(0xC4000020L),
                "a served ID is counted exactly after the flood");
        assertEquals(100_000L - SmcccRouter.MAX_UNSERVED_IDS, r.otherCalls());
        assertEquals(
                100_002L,
                r.callCounts().values().stream().mapToLong(Long::longValue).sum() + r.otherCalls());
        r.handle(0, 0xC2000000, false, regs);
        assertEquals(2L, r.callCounts().get(0xC2000000L), "an ID that has a counter keeps it");
    }
}
