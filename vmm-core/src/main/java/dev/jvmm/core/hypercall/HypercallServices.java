package dev.jvmm.core.hypercall;

import dev.jvmm.core.hypercall.sdei.HandlerPstate;
import dev.jvmm.core.hypercall.sdei.SdeiDispatcher;
import dev.jvmm.core.hypercall.sdei.SdeiService;
import dev.jvmm.core.hypercall.shared.SharedRegionService;
import java.util.List;
import java.util.Optional;

/**
 * The hypercall side of one VM: the router and the services it routes to. Built once per VM from a
 * {@link HypercallConfig} and what KVM reported (MPIDRs, the vendor-hyp bitmaps, CPU features);
 * pure, so the whole assembly is unit-tested without KVM.
 */
public final class HypercallServices {
    private final SmcccRouter router;
    private final SdeiDispatcher sdei; // null without --sdei
    private final SharedRegionService shared; // null without --shared-regions

    private HypercallServices(SmcccRouter router, SdeiDispatcher sdei, SharedRegionService shared) {
        this.router = router;
        this.sdei = sdei;
        this.shared = shared;
    }

    /** What the VM offers the guest, read from KVM before the first run. */
    public record Platform(
            List<Long> mpidrs,
            HandlerPstate handlerPstate,
            long ramBase,
            long ramBytes,
            long vendorHypBmap,
            long vendorHypBmap2) {}

    /**
     * The services {@code cfg} asks for on this platform, with the router that dispatches to them.
     *
     * @throws IllegalStateException when the shared-region service is asked for but the VM's
     *     VENDOR_HYP_BMAP hides the vendor range (FUNC_FEAT clear), so the guest could not discover
     *     it
     */
    public static HypercallServices build(HypercallConfig cfg, Platform p) {
        SmcccRouter.Builder b = SmcccRouter.builder();
        cfg.deny().forEach(b::deny);
        SdeiDispatcher sdei = null;
        if (cfg.sdei()) {
            sdei = new SdeiDispatcher(cfg.sdeiEvents(), p.mpidrs(), p.handlerPstate());
            b.service(new SdeiService(sdei));
        }
        SharedRegionService shared = null;
        if (cfg.sharedRegions()) {
            if (!VendorHypFeatures.canAdvertise(p.vendorHypBmap())) {
                throw new IllegalStateException(
                        String.format(
                                "--shared-regions: the VM's vendor_hyp bitmap 0x%x hides "
                                        + "the KVM vendor-hypervisor service range (FUNC_FEAT, bit 0, is clear), so a guest could not "
                                        + "discover the calls",
                                p.vendorHypBmap()));
            }
            shared = new SharedRegionService(p.ramBase(), p.ramBytes());
            b.service(shared);
            b.service(
                    new VendorHypFeatures(
                            p.vendorHypBmap(),
                            p.vendorHypBmap2(),
                            SharedRegionService.FEATURE_BITS,
                            cfg.deny()));
        }
        if (cfg.servesDiscoverImpl()) b.service(new DiscoverImplService(cfg.implCpus()));
        return new HypercallServices(b.build(), sdei, shared);
    }

    /** A VM without userspace services: an empty router, nothing forwarded. */
    public static HypercallServices none() {
        return new HypercallServices(SmcccRouter.builder().build(), null, null);
    }

    public SmcccRouter router() {
        return router;
    }

    public Optional<SdeiDispatcher> sdei() {
        return Optional.ofNullable(sdei);
    }

    public Optional<SharedRegionService> sharedRegions() {
        return Optional.ofNullable(shared);
    }

    /**
     * Guest reboot in place: a fresh guest has registered and shared nothing (the counters keep
     * counting).
     */
    public void reset() {
        if (sdei != null) sdei.reset();
        if (shared != null) shared.reset();
    }
}
