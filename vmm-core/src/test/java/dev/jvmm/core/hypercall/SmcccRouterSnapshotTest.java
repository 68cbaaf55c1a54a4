package dev.jvmm.core.hypercall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jvmm.core.hypercall.SmcccRouterTest.Svc;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.StateJson;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The SMCCC filter ranges across a snapshot: recorded at save, checked at restore. */
class SmcccRouterSnapshotTest {
    private static final FunctionRange SDEI = FunctionRange.parse("0xC4000020+32");
    private static final FunctionRange SHARED = FunctionRange.parse("0xC6000002-0xC6000004");
    private static final FunctionRange DENY = FunctionRange.parse("0xC4000040+16");
    private static final FunctionRange KVM_DENY = FunctionRange.parse("0x84000050+16");

    private static Svc svc(String name, FunctionRange claim) {
        return new Svc(name, c -> SmcccResult.of(0), claim);
    }

    /** A router as a machine's configuration builds it. */
    private static SmcccRouter.Builder configured() {
        return SmcccRouter.builder()
                .service(svc("sdei", SDEI))
                .service(svc("shared-regions", SHARED))
                .deny(DENY)
                .denyInKvm(KVM_DENY);
    }

    private static String json(SmcccRouter r) {
        return StateJson.write(r.saveState());
    }

    private static SmcccFilterState read(String json) {
        return StateJson.read(json, SmcccFilterState.class, "smccc");
    }

    @Test
    void theSameConfigurationInstallsTheSavedRanges() {
        String json = json(configured().build());
        SmcccRouter fresh = configured().build();
        fresh.restoreState(read(json));
        assertEquals(json, json(fresh), "saving the restored router gives the same record");
        assertEquals(
                List.of(
                        new SmcccFilterState.Range(0x8400_0050L, 16, "DENY", ""),
                        new SmcccFilterState.Range(
                                0xC400_0020L, 48, "FWD_TO_USER", "sdei, --smccc deny"),
                        new SmcccFilterState.Range(
                                0xC600_0002L, 3, "FWD_TO_USER", "shared-regions")),
                read(json).ranges());
        SmcccRouter.builder().build().restoreState(read(json(SmcccRouter.builder().build())));
    }

    @Test
    void aRangeTheGuestHadThatThisRunLacksIsRefused() {
        String json = json(SmcccRouter.builder().service(svc("sdei", SDEI)).build());
        refused(
                SmcccRouter.builder().build(),
                json,
                "snapshot: smccc: the guest had 0xc4000020..0xc400003f forwarded to jvmm (sdei);"
                        + " this run installs nothing there");
    }

    @Test
    void aRangeThisRunInstallsThatTheGuestLackedIsRefused() {
        String json = json(SmcccRouter.builder().build());
        refused(
                SmcccRouter.builder().service(svc("sdei", SDEI)).build(),
                json,
                "snapshot: smccc: the guest had nothing at 0xc4000020..0xc400003f; this run"
                        + " installs 0xc4000020..0xc400003f forwarded to jvmm (sdei)");
        refused(
                SmcccRouter.builder()
                        .service(svc("sdei", SDEI))
                        .service(svc("shared-regions", SHARED))
                        .build(),
                json(SmcccRouter.builder().service(svc("sdei", SDEI)).build()),
                "snapshot: smccc: the guest had nothing at 0xc6000002..0xc6000004; this run"
                        + " installs 0xc6000002..0xc6000004 forwarded to jvmm (shared-regions)");
    }

    @Test
    void theFirstDifferingRangeIsNamedWithWhatEachSideHasThere() {
        String json = json(configured().build());
        refused(
                SmcccRouter.builder()
                        .service(svc("sdei", SDEI))
                        .service(svc("shared-regions", SHARED))
                        .denyInKvm(KVM_DENY)
                        .build(),
                json,
                "snapshot: smccc: the guest had 0xc4000020..0xc400004f forwarded to jvmm (sdei,"
                        + " --smccc deny); this run installs 0xc4000020..0xc400003f forwarded to"
                        + " jvmm (sdei)");
        refused(
                SmcccRouter.builder()
                        .service(svc("sdei", SDEI))
                        .service(svc("shared-regions", SHARED))
                        .deny(DENY)
                        .deny(KVM_DENY)
                        .build(),
                json,
                "snapshot: smccc: the guest had 0x84000050..0x8400005f denied by KVM; this run"
                        + " installs 0x84000050..0x8400005f forwarded to jvmm (--smccc deny)");
    }

    @Test
    void damagedRecordsAreRefusedNamingTheRange() {
        SmcccRouter r = configured().build();
        List<SmcccFilterState.Range> good = r.saveState().ranges();
        SmcccFilterState.Range sdei = good.get(1);
        refused(r, "{}", "snapshot: smccc: ranges missing");
        refused(
                r,
                state(good.get(0), new SmcccFilterState.Range(0xC400_0020L, 48, "HANDLE", "")),
                "snapshot: smccc: range 1 has action 'HANDLE', not FWD_TO_USER or DENY");
        refused(
                r,
                state(new SmcccFilterState.Range(0xC400_0020L, 0, "DENY", "")),
                "snapshot: smccc: range 0 (base 3288334368, count 0) is not a range of 32-bit"
                        + " function IDs");
        refused(
                r,
                state(new SmcccFilterState.Range(0xFFFF_FFF0L, 17, "DENY", "")),
                "snapshot: smccc: range 0 (base 4294967280, count 17) is not a range of 32-bit"
                        + " function IDs");
        refused(
                r,
                state(sdei, good.get(0), good.get(2)),
                "snapshot: smccc: range 1 (0x84000050..0x8400005f) overlaps or precedes range 0");
    }

    private static String state(SmcccFilterState.Range... ranges) {
        return StateJson.write(new SmcccFilterState(List.of(ranges)));
    }

    private static void refused(SmcccRouter router, String json, String expected) {
        SnapshotException e =
                assertThrows(SnapshotException.class, () -> router.restoreState(read(json)));
        assertEquals(expected, e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
