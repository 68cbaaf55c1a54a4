package dev.jvmm.core.hypercall.shared;

import dev.jvmm.core.hypercall.FunctionRange;
import dev.jvmm.core.hypercall.Smccc;
import dev.jvmm.core.hypercall.SmcccCall;
import dev.jvmm.core.hypercall.SmcccResult;
import dev.jvmm.core.hypercall.SmcccService;
import java.lang.System.Logger.Level;
import java.util.List;

/**
 * The pKVM guest memory-sharing ABI (Documentation/virt/kvm/arm/hypercalls.rst) served by jvmm:
 * HYP_MEMINFO (0xC6000002), MEM_SHARE (0xC6000003), MEM_UNSHARE (0xC6000004), range form included.
 *
 * <ul>
 *   <li>HYP_MEMINFO: x1..x3 must be zero; returns x0 = the 4 KiB granule (a divisor of every arm64
 *       page size, so 4K, 16K and 64K guests all accept it) and x1 = KVM_FUNC_HAS_RANGE.
 *   <li>MEM_SHARE / MEM_UNSHARE: x1 = IPA, x2 = granule count (0 means one granule, as the ABI
 *       keeps for legacy guests), x3 must be zero. All or nothing: x0 = SUCCESS and x1 = the count,
 *       or x0 = INVALID_PARAMETER and x1 = 0 for a bad argument, an already-shared granule (share)
 *       or a granule that is not shared (unshare) — what pKVM answers for the same cases.
 * </ul>
 *
 * The set is kept for the control API and for a future migration (the userspace analogue of the
 * rejected KVM_GET_SHARED_PAGES_LIST). jvmm maps all RAM to the host anyway; the list is
 * bookkeeping.
 */
public final class SharedRegionService implements SmcccService {
    public static final int HYP_MEMINFO = 0xC600_0002,
            MEM_SHARE = 0xC600_0003,
            MEM_UNSHARE = 0xC600_0004;
    public static final long GRANULE = 4096;

    /** {@code KVM_FUNC_HAS_RANGE}: MEM_SHARE/MEM_UNSHARE take a granule count in x2. */
    public static final long HAS_RANGE = 1;

    /** The vendor-hyp FEATURES bits (function numbers) this service answers. */
    public static final long FEATURE_BITS = 1L << 2 | 1L << 3 | 1L << 4;

    private static final System.Logger LOG = System.getLogger("jvmm.shared");

    private final SharedRegionSet set;

    public SharedRegionService(long ramBase, long ramBytes) {
        this.set = new SharedRegionSet(ramBase, ramBytes, GRANULE);
    }

    public SharedRegionSet regions() {
        return set;
    }

    @Override
    public String name() {
        return "shared-regions";
    }

    @Override
    public List<FunctionRange> claims() {
        return List.of(new FunctionRange(Smccc.unsigned(HYP_MEMINFO), Smccc.unsigned(MEM_UNSHARE)));
    }

    @Override
    public SmcccResult call(SmcccCall c) {
        return switch (c.functionId()) {
            case HYP_MEMINFO ->
                    c.arg(1) == 0 && c.arg(2) == 0 && c.arg(3) == 0
                            ? SmcccResult.of(GRANULE, HAS_RANGE)
                            : SmcccResult.of(Smccc.INVALID_PARAMETER);
            case MEM_SHARE -> change(c, true);
            case MEM_UNSHARE -> change(c, false);
            default -> SmcccResult.notSupported();
        };
    }

    private SmcccResult change(SmcccCall c, boolean share) {
        long ipa = c.arg(1), requested = c.arg(2), x3 = c.arg(3);
        long count = requested == 0 ? 1 : requested;
        boolean ok = x3 == 0 && (share ? set.share(ipa, count) : set.unshare(ipa, count));
        if (!ok) {
            LOG.log(
                    Level.DEBUG,
                    () -> {
                        String why = x3 != 0 ? "x3 is not zero" : set.invalidReason(ipa, count);
                        if (why == null)
                            why = share ? "a granule is already shared" : "a granule is not shared";
                        return String.format(
                                "vcpu %d: %s of 0x%x + %s granules refused: %s",
                                c.cpu(),
                                share ? "MEM_SHARE" : "MEM_UNSHARE",
                                ipa,
                                Long.toUnsignedString(count),
                                why);
                    });
            return SmcccResult.of(Smccc.INVALID_PARAMETER, 0);
        }
        return SmcccResult.of(Smccc.SUCCESS, count);
    }

    /** Guest reboot: nothing is shared any more. */
    public void reset() {
        set.clear();
    }
}
