package dev.jvmm.core.hypercall.sdei;

import dev.jvmm.core.hypercall.FunctionRange;
import dev.jvmm.core.hypercall.SmcccCall;
import dev.jvmm.core.hypercall.SmcccResult;
import dev.jvmm.core.hypercall.SmcccService;
import java.util.List;

/**
 * SDEI 1.1 over SMCCC: decodes the calls of the SDEI block (0xC4000020-0xC400003F) into {@link
 * SdeiDispatcher} operations. INTERRUPT_BIND and INTERRUPT_RELEASE answer NOT_SUPPORTED: the
 * guest's interrupts belong to the in-kernel vGIC, which jvmm cannot intercept (FEATURES reports 0
 * bind slots accordingly). IDs of the block that SDEI 1.1 does not define answer NOT_SUPPORTED.
 */
public final class SdeiService implements SmcccService {
    private final SdeiDispatcher sdei;

    public SdeiService(SdeiDispatcher sdei) {
        this.sdei = sdei;
    }

    public SdeiDispatcher dispatcher() {
        return sdei;
    }

    @Override
    public String name() {
        return "sdei";
    }

    @Override
    public List<FunctionRange> claims() {
        return List.of(Sdei.RANGE);
    }

    @Override
    public SmcccResult call(SmcccCall c) {
        int cpu = c.cpu();
        if (c.functionId() == Sdei.EVENT_COMPLETE
                || c.functionId() == Sdei.EVENT_COMPLETE_AND_RESUME) {
            boolean resume = c.functionId() == Sdei.EVENT_COMPLETE_AND_RESUME;
            long e = sdei.complete(cpu, c.registers(), resume, resume ? c.arg(1) : 0);
            // on success the vCPU is back in the interrupted context: the call "does not return"
            return e == Sdei.SUCCESS ? new SmcccResult.Written() : SmcccResult.of(e);
        }
        long r =
                switch (c.functionId()) {
                    case Sdei.VERSION -> Sdei.VERSION_1_1;
                    case Sdei.EVENT_REGISTER ->
                            sdei.register(cpu, c.arg(1), c.arg(2), c.arg(3), c.arg(4), c.arg(5));
                    case Sdei.EVENT_ENABLE -> sdei.enable(cpu, c.arg(1));
                    case Sdei.EVENT_DISABLE -> sdei.disable(cpu, c.arg(1));
                    case Sdei.EVENT_CONTEXT -> sdei.context(cpu, c.arg(1));
                    case Sdei.EVENT_UNREGISTER -> sdei.unregister(cpu, c.arg(1));
                    case Sdei.EVENT_STATUS -> sdei.status(cpu, c.arg(1));
                    case Sdei.EVENT_GET_INFO ->
                            sdei.info(
                                    cpu,
                                    c.arg(1),
                                    c.arg(2) & 0xFFFF_FFFFL); // info is a 32-bit parameter
                    case Sdei.EVENT_ROUTING_SET ->
                            sdei.routingSet(cpu, c.arg(1), c.arg(2), c.arg(3));
                    case Sdei.PE_MASK -> sdei.mask(cpu);
                    case Sdei.PE_UNMASK -> sdei.unmask(cpu);
                    case Sdei.EVENT_SIGNAL -> sdei.signal(cpu, c.arg(1), c.arg(2));
                    case Sdei.FEATURES -> features(c.arg(1));
                    case Sdei.PRIVATE_RESET -> sdei.privateReset(cpu);
                    case Sdei.SHARED_RESET -> sdei.sharedReset();
                    default -> Sdei.NOT_SUPPORTED; // INTERRUPT_BIND/RELEASE and the undefined rest
                        // of the block
                };
        return SmcccResult.of(r);
    }

    /**
     * FEATURES: no bind slots (BIND is not supported), no relative mode; other queries are invalid.
     */
    private static long features(long feature) {
        if (feature == Sdei.FEATURE_BIND_SLOTS || feature == Sdei.FEATURE_RELATIVE_MODE) return 0;
        return Sdei.INVALID_PARAMETERS;
    }

    /**
     * After any SDEI call the caller may have something to take (unmask, enable, signal to self,
     * complete).
     */
    @Override
    public void afterCall(SmcccCall c) {
        sdei.deliverPending(c.cpu(), c.registers());
    }
}
