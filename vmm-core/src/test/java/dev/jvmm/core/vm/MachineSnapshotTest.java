package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jvmm.core.JvmmException;
import dev.jvmm.core.snapshot.PartState;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.Snapshottable;
import dev.jvmm.kvm.KvmException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How a snapshot saves its parts' records: in the machine's order, and a KVM call that fails on the
 * way is one plain line naming the call, the part and the errno, never an internal error.
 */
class MachineSnapshotTest {
    public record Counter(long value) {}

    /** A part whose save answers {@code value}, or throws {@code failure} when it is set. */
    private record Part(String stateKey, long value, RuntimeException failure)
            implements Snapshottable<Counter> {
        @Override
        public Class<Counter> stateType() {
            return Counter.class;
        }

        @Override
        public Counter saveState() {
            if (failure != null) throw failure;
            return new Counter(value);
        }

        @Override
        public void restoreState(Counter state) {
            throw new UnsupportedOperationException("not restored here");
        }
    }

    @Test
    void recordsAreSavedInTheMachinesOrder() {
        List<PartState> saved =
                MachineSnapshot.saveParts(
                        List.of(new Part("vcpu.0", 7, null), new Part("gic", 9, null)));
        assertEquals(List.of("vcpu.0", "gic"), saved.stream().map(PartState::key).toList());
        assertEquals(Map.of("value", 9), saved.get(1).state());
    }

    @Test
    void aFailedKvmCallOnAVcpuIsOneLineNamingTheCallTheVcpuAndTheErrno() {
        KvmException kvm = new KvmException("KVM_GET_ONE_REG(SCTLR_EL1)", 22);
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () ->
                                MachineSnapshot.saveParts(
                                        List.of(
                                                new Part("vcpu.0", 1, kvm),
                                                new Part("gic", 2, null))));
        assertEquals(
                "snapshot failed: KVM_GET_ONE_REG(SCTLR_EL1) on vCPU 0: EINVAL; no snapshot was"
                        + " written and the VM goes on as before",
                e.getMessage());
        assertEquals(JvmmException.Kind.HOST_ERROR, e.errorKind());
        assertSame(kvm, e.getCause());
    }

    @Test
    void aFailedKvmCallInAnotherPartNamesThatPart() {
        SnapshotException e =
                assertThrows(
                        SnapshotException.class,
                        () ->
                                MachineSnapshot.saveParts(
                                        List.of(
                                                new Part("vcpu.0", 1, null),
                                                new Part(
                                                        "gic",
                                                        2,
                                                        new KvmException(
                                                                "KVM_GET_DEVICE_ATTR(GICD 0x0)",
                                                                6)))));
        assertEquals(
                "snapshot failed: KVM_GET_DEVICE_ATTR(GICD 0x0) on the gic: ENXIO; no snapshot"
                        + " was written and the VM goes on as before",
                e.getMessage());
    }

    @Test
    void aBugInAPartIsNotDisguised() {
        IllegalStateException bug = new IllegalStateException("boom");
        assertSame(
                bug,
                assertThrows(
                        IllegalStateException.class,
                        () -> MachineSnapshot.saveParts(List.of(new Part("uart", 1, bug)))));
    }
}
