package dev.jvmm.core.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The probe started ahead answers what a probe on the calling thread answers: the same host facts,
 * or the same refusal (here, on a host without arm64 KVM, the same exception and line).
 */
class HostProbeAheadTest {
    @Test
    void theEarlyProbeGivesWhatAProbeNowGives() {
        GuestDefinition guest = SnapshotFilesTest.guest(); // PSCI 1.1: the early probe's result
        assertEquals(
                outcome(() -> HostProbeAhead.now(guest)),
                outcome(() -> HostProbeAhead.start().offered(guest)));
    }

    @Test
    void aPsci01GuestIsProbedAgainWithItsOwnFeatures() {
        GuestDefinition g = SnapshotFilesTest.guest();
        GuestDefinition psci01 = withPsci(g, "0.1");
        assertEquals(
                outcome(() -> HostProbeAhead.now(psci01)),
                outcome(() -> HostProbeAhead.start().offered(psci01)));
    }

    private static GuestDefinition withPsci(GuestDefinition g, String psci) {
        Object[] args = new Object[GuestDefinition.class.getRecordComponents().length];
        Class<?>[] types = new Class<?>[args.length];
        try {
            for (int i = 0; i < args.length; i++) {
                var rc = GuestDefinition.class.getRecordComponents()[i];
                types[i] = rc.getType();
                args[i] = rc.getName().equals("psci") ? psci : rc.getAccessor().invoke(g);
            }
            return GuestDefinition.class.getDeclaredConstructor(types).newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new LinkageError("GuestDefinition", e);
        }
    }

    /** The facts, or the refusal's class and message. */
    private static String outcome(java.util.function.Supplier<HostFacts> probe) {
        try {
            return "facts " + probe.get();
        } catch (RuntimeException e) {
            return "refused " + e.getClass().getName() + ": " + e.getMessage();
        }
    }
}
