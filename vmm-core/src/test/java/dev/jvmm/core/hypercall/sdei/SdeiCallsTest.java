package dev.jvmm.core.hypercall.sdei;

import static dev.jvmm.core.hypercall.sdei.Sdei.*;
import static dev.jvmm.core.hypercall.sdei.SdeiHarness.ARG;
import static dev.jvmm.core.hypercall.sdei.SdeiHarness.EP;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Every SDEI call with its success value and each error code, without delivery. */
class SdeiCallsTest {
    private static final SdeiEventSpec PRIV = new SdeiEventSpec(100, false, false);
    private static final SdeiEventSpec SHARED = new SdeiEventSpec(200, true, false);
    private static final SdeiEventSpec CRIT = new SdeiEventSpec(300, true, true);
    private final SdeiHarness h = new SdeiHarness(2, PRIV, SHARED, CRIT);

    @Test
    void versionIs11WithJvmmVendor() {
        assertEquals(0x0001_0001_004a_564dL, h.call(0, VERSION));
    }

    @Test
    void registerValidatesThenDeniesASecondRegistration() {
        assertEquals(
                INVALID_PARAMETERS,
                h.call(0, EVENT_REGISTER, 100, 0, ARG, RM_ANY, 0),
                "entry point 0");
        assertEquals(
                INVALID_PARAMETERS,
                h.call(0, EVENT_REGISTER, 101, EP, ARG, RM_ANY, 0),
                "unknown event");
        assertEquals(
                INVALID_PARAMETERS, h.call(0, EVENT_REGISTER, 200, EP, ARG, 2, 0), "unknown flags");
        assertEquals(
                INVALID_PARAMETERS,
                h.call(0, EVENT_REGISTER, 200, EP, ARG, RM_PE, 0x80000005L),
                "no such PE");
        assertEquals(SUCCESS, h.call(0, EVENT_REGISTER, 200, EP, ARG, RM_PE, SdeiHarness.mpidr(1)));
        assertEquals(
                DENIED,
                h.call(1, EVENT_REGISTER, 200, EP, ARG, RM_ANY, 0),
                "shared: one registration");
        assertEquals(SUCCESS, h.register(0, 100, EP));
        assertEquals(DENIED, h.register(0, 100, EP));
        assertEquals(
                SUCCESS, h.register(1, 100, EP), "private: each PE registers its own instance");
        assertEquals(SUCCESS, h.register(0, 0, EP), "event 0 is registrable");
        // only the low 32 bits of x1 name the event, as in TF-A
        assertEquals(STATUS_REGISTERED, h.call(0, EVENT_STATUS, 0x1_0000_0064L));
    }

    @Test
    void enableAndDisableNeedARegistration() {
        assertEquals(INVALID_PARAMETERS, h.enable(0, 7));
        assertEquals(DENIED, h.enable(0, 100));
        assertEquals(DENIED, h.call(0, EVENT_DISABLE, 100));
        assertEquals(INVALID_PARAMETERS, h.call(0, EVENT_DISABLE, 7));
        h.register(0, 100, EP);
        assertEquals(
                SUCCESS, h.call(0, EVENT_DISABLE, 100), "disabling a disabled event is a no-op");
        assertEquals(SUCCESS, h.enable(0, 100));
        assertEquals(SUCCESS, h.enable(0, 100));
        assertEquals(STATUS_REGISTERED | STATUS_ENABLED, h.status(0, 100));
        assertEquals(0, h.status(1, 100), "the other PE's instance is untouched");
        assertEquals(SUCCESS, h.call(0, EVENT_DISABLE, 100));
        assertEquals(STATUS_REGISTERED, h.status(0, 100));
    }

    @Test
    void statusOfUnknownEventIsInvalid() {
        assertEquals(INVALID_PARAMETERS, h.status(0, 5));
        assertEquals(0, h.status(0, 0));
    }

    @Test
    void getInfo() {
        assertEquals(0, h.call(0, EVENT_GET_INFO, 100, INFO_TYPE));
        assertEquals(1, h.call(0, EVENT_GET_INFO, 200, INFO_TYPE));
        assertEquals(
                0,
                h.call(0, EVENT_GET_INFO, 0, INFO_SIGNALED),
                "event 0 is signalable (TF-A encoding)");
        assertEquals(1, h.call(0, EVENT_GET_INFO, 100, INFO_SIGNALED));
        assertEquals(0, h.call(0, EVENT_GET_INFO, 200, INFO_PRIORITY));
        assertEquals(1, h.call(0, EVENT_GET_INFO, 300, INFO_PRIORITY));
        assertEquals(
                INVALID_PARAMETERS, h.call(0, EVENT_GET_INFO, 100, INFO_ROUTING_MODE), "private");
        assertEquals(
                INVALID_PARAMETERS,
                h.call(0, EVENT_GET_INFO, 100, INFO_ROUTING_AFFINITY),
                "private");
        assertEquals(DENIED, h.call(0, EVENT_GET_INFO, 200, INFO_ROUTING_MODE), "not registered");
        assertEquals(
                DENIED, h.call(0, EVENT_GET_INFO, 200, INFO_ROUTING_AFFINITY), "not registered");
        assertEquals(INVALID_PARAMETERS, h.call(0, EVENT_GET_INFO, 200, 5), "unknown query");
        assertEquals(INVALID_PARAMETERS, h.call(0, EVENT_GET_INFO, 9, INFO_TYPE), "unknown event");
        h.register(0, 200, EP);
        assertEquals(0, h.call(0, EVENT_GET_INFO, 200, INFO_ROUTING_MODE));
        assertEquals(
                INVALID_PARAMETERS,
                h.call(0, EVENT_GET_INFO, 200, INFO_ROUTING_AFFINITY),
                "RM_ANY has none");
        h.call(
                0,
                EVENT_REGISTER,
                300,
                EP,
                ARG,
                RM_PE,
                SdeiHarness.mpidr(1) | 0x4000_0000L); // U bit ignored
        assertEquals(1, h.call(0, EVENT_GET_INFO, 300, INFO_ROUTING_MODE));
        assertEquals(1, h.call(0, EVENT_GET_INFO, 300, INFO_ROUTING_AFFINITY));
    }

    @Test
    void routingSetOnlyForRegisteredDisabledSharedEvents() {
        assertEquals(INVALID_PARAMETERS, h.call(0, EVENT_ROUTING_SET, 100, RM_ANY, 0), "private");
        assertEquals(INVALID_PARAMETERS, h.call(0, EVENT_ROUTING_SET, 9, RM_ANY, 0), "unknown");
        assertEquals(DENIED, h.call(0, EVENT_ROUTING_SET, 200, RM_ANY, 0), "not registered");
        h.register(0, 200, EP);
        assertEquals(INVALID_PARAMETERS, h.call(0, EVENT_ROUTING_SET, 200, 3, 0), "bad flags");
        assertEquals(INVALID_PARAMETERS, h.call(0, EVENT_ROUTING_SET, 200, RM_PE, 0x99), "bad PE");
        assertEquals(SUCCESS, h.call(0, EVENT_ROUTING_SET, 200, RM_PE, SdeiHarness.mpidr(1)));
        assertEquals(1, h.call(0, EVENT_GET_INFO, 200, INFO_ROUTING_AFFINITY));
        h.enable(0, 200);
        assertEquals(DENIED, h.call(0, EVENT_ROUTING_SET, 200, RM_ANY, 0), "enabled");
    }

    @Test
    void unregisterAndResets() {
        assertEquals(INVALID_PARAMETERS, h.call(0, EVENT_UNREGISTER, 9));
        assertEquals(DENIED, h.call(0, EVENT_UNREGISTER, 100), "not registered");
        h.register(0, 100, EP);
        h.enable(0, 100);
        assertEquals(SUCCESS, h.call(0, EVENT_UNREGISTER, 100));
        assertEquals(0, h.status(0, 100));
        h.register(0, 100, EP);
        h.register(1, 100, EP);
        h.register(0, 0, EP);
        h.register(0, 200, EP);
        assertEquals(SUCCESS, h.call(0, PRIVATE_RESET));
        assertEquals(0, h.status(0, 100));
        assertEquals(0, h.status(0, 0));
        assertEquals(STATUS_REGISTERED, h.status(1, 100), "PRIVATE_RESET is per PE");
        assertEquals(STATUS_REGISTERED, h.status(0, 200), "and leaves shared events");
        assertEquals(SUCCESS, h.call(1, SHARED_RESET));
        assertEquals(0, h.status(0, 200));
        assertEquals(SUCCESS, h.call(1, SHARED_RESET), "nothing to reset is fine");
    }

    @Test
    void peMaskReportsWhetherItChangedAnything() {
        assertTrue(h.sdei.isMasked(0), "all PEs start masked");
        assertEquals(0, h.call(0, PE_MASK));
        assertEquals(SUCCESS, h.unmask(0));
        assertFalse(h.sdei.isMasked(0));
        assertTrue(h.sdei.isMasked(1));
        assertEquals(1, h.call(0, PE_MASK));
        assertEquals(0, h.call(0, PE_MASK));
    }

    @Test
    void eventSignalOnlyForEvent0AndKnownPes() {
        assertEquals(INVALID_PARAMETERS, h.call(0, EVENT_SIGNAL, 100, SdeiHarness.mpidr(1)));
        assertEquals(INVALID_PARAMETERS, h.call(0, EVENT_SIGNAL, 0, 0x80000007L));
        assertEquals(
                SUCCESS,
                h.call(0, EVENT_SIGNAL, 0, SdeiHarness.mpidr(1)),
                "unregistered target: lost, not an error");
        assertFalse(h.sdei.snapshot().events().get(0).instances().get(1).pending());
        assertEquals(List.of(), h.wakes);
        h.register(1, 0, EP);
        assertEquals(SUCCESS, h.call(0, EVENT_SIGNAL, 0, SdeiHarness.mpidr(1)));
        assertTrue(h.sdei.snapshot().events().get(0).instances().get(1).pending());
        assertEquals(List.of(1), h.wakes, "the target vCPU is woken");
    }

    @Test
    void featuresBindAndUndefinedCalls() {
        assertEquals(0, h.call(0, FEATURES, FEATURE_BIND_SLOTS));
        assertEquals(0, h.call(0, FEATURES, FEATURE_RELATIVE_MODE));
        assertEquals(INVALID_PARAMETERS, h.call(0, FEATURES, 2));
        assertEquals(NOT_SUPPORTED, h.call(0, INTERRUPT_BIND, 40));
        assertEquals(NOT_SUPPORTED, h.call(0, INTERRUPT_RELEASE, 100));
        assertEquals(NOT_SUPPORTED, h.call(0, 0xC4000033));
        assertEquals(NOT_SUPPORTED, h.call(0, 0xC400003F));
    }

    @Test
    void contextAndCompleteOutsideAHandlerAreDenied() {
        h.at(0, 0x4444, 0x3c5);
        assertEquals(DENIED, h.call(0, EVENT_CONTEXT, 0));
        assertEquals(INVALID_PARAMETERS, h.call(0, EVENT_CONTEXT, 18), "index checked first");
        assertEquals(DENIED, h.call(0, EVENT_COMPLETE, 0));
        assertEquals(DENIED, h.call(0, EVENT_COMPLETE_AND_RESUME, 0x5000));
        assertEquals(0x4444, h.cpu[0].pc(), "a failed COMPLETE returns to the caller");
    }

    @Test
    void declaringEvent0OrAnEventTwiceIsRefused() {
        List<Long> m = List.of(0x80000000L);
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        new SdeiDispatcher(
                                List.of(new SdeiEventSpec(0, false, false)),
                                m,
                                HandlerPstate.PLAIN));
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new SdeiDispatcher(
                                        List.of(
                                                new SdeiEventSpec(5, false, false),
                                                new SdeiEventSpec(5, true, false)),
                                        m,
                                        HandlerPstate.PLAIN));
        assertEquals("SDEI event 5 declared twice", e.getMessage());
    }

    @Test
    void claimsTheWholeSdeiBlock() {
        assertEquals(
                List.of(dev.jvmm.core.hypercall.FunctionRange.parse("0xC4000020-0xC400003F")),
                new SdeiService(h.sdei).claims());
    }
}
