package dev.jvmm.core.hypercall.shared;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.hypercall.FakeRegisters;
import dev.jvmm.core.hypercall.Smccc;
import dev.jvmm.core.hypercall.SmcccRouter;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.StateJson;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The shared-region list across a snapshot, as the control API pages it and as the guest uses it.
 */
class SharedRegionSnapshotTest {
    private static final long BASE = 0x8000_0000L, G = 4096, RAM = 64L << 20;

    private static long call(SmcccRouter router, int fn, long ipa, long granules) {
        FakeRegisters regs =
                new FakeRegisters()
                        .context(0x4000, 0x3c5)
                        .call(fn, ipa, granules)
                        .with(dev.jvmm.kvm.RegIds.x(3), 0);
        router.handle(0, fn, false, regs);
        return regs.x(0);
    }

    @Test
    void theRestoredListPagesAndUnsharesAsTheSavedOne() {
        SharedRegionService svc = new SharedRegionService(BASE, RAM);
        SmcccRouter router = SmcccRouter.builder().service(svc).build();
        assertEquals(Smccc.SUCCESS, call(router, SharedRegionService.MEM_SHARE, BASE, 4));
        assertEquals(Smccc.SUCCESS, call(router, SharedRegionService.MEM_SHARE, BASE + 10 * G, 2));
        assertEquals(Smccc.SUCCESS, call(router, SharedRegionService.MEM_SHARE, BASE + 100 * G, 3));
        assertEquals(
                Smccc.SUCCESS, call(router, SharedRegionService.MEM_UNSHARE, BASE + 101 * G, 1));
        String json = StateJson.write(svc.regions().saveState());

        SharedRegionService svc2 = new SharedRegionService(BASE, RAM);
        SmcccRouter router2 = SmcccRouter.builder().service(svc2).build();
        svc2.regions()
                .restoreState(StateJson.read(json, SharedRegionsState.class, "shared-regions"));
        assertEquals(json, StateJson.write(svc2.regions().saveState()));
        // what the control API's shared-regions answer is made of, a page at a time
        assertEquals(svc.regions().regions(BASE, 2), svc2.regions().regions(BASE, 2));
        assertEquals(
                svc.regions().regions(BASE + 11 * G, 10),
                svc2.regions().regions(BASE + 11 * G, 10));
        assertEquals(4, svc2.regions().regionCount());
        assertEquals(
                Smccc.INVALID_PARAMETER,
                call(router2, SharedRegionService.MEM_SHARE, BASE + 11 * G, 1),
                "already shared");
        assertEquals(
                Smccc.SUCCESS, call(router2, SharedRegionService.MEM_UNSHARE, BASE + 102 * G, 1));
        assertEquals(
                List.of(
                        new SharedRegion(BASE, 4 * G),
                        new SharedRegion(BASE + 10 * G, 2 * G),
                        new SharedRegion(BASE + 100 * G, G)),
                svc2.regions().regions());
    }

    private static void refused(SharedRegionsState s, String expected) {
        SharedRegionSet set = new SharedRegionSet(BASE, RAM, G);
        set.share(BASE + 50 * G, 1);
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () ->
                                set.restoreState(
                                        StateJson.read(
                                                StateJson.write(s),
                                                SharedRegionsState.class,
                                                "shared-regions")));
        assertTrue(e.getMessage().startsWith("snapshot: shared-regions: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertEquals(List.of(new SharedRegion(BASE + 50 * G, G)), set.regions(), "unchanged");
    }

    @Test
    void hostileListsAreRefusedNamingTheRegion() {
        SharedRegion a = new SharedRegion(BASE, 2 * G);
        refused(new SharedRegionsState(G, List.of(a, new SharedRegion(BASE + G, G))), "overlaps");
        refused(
                new SharedRegionsState(G, List.of(a, new SharedRegion(BASE + 2 * G, G))),
                "touches");
        refused(new SharedRegionsState(G, List.of(new SharedRegion(BASE + 1, G))), "0x80000001");
        refused(new SharedRegionsState(G, List.of(new SharedRegion(BASE + RAM, G))), "region 0x");
        refused(new SharedRegionsState(G, List.of(new SharedRegion(BASE, 100))), "multiple");
        refused(new SharedRegionsState(2 * G, List.of()), "granule 0x2000 is not this VM's 0x1000");
    }
}
