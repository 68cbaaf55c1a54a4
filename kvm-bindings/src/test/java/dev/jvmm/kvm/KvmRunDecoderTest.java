package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.uapi.KvmUapi;
import dev.jvmm.kvm.uapi.kvm_run;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * Every exit type decoded from a synthetic kvm_run, laid out by the generated (compiler-checked)
 * layout.
 */
class KvmRunDecoderTest {
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment run = kvm_run.allocate(arena);

    @Test
    void mmioWriteCarriesAddressLengthAndAView() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_MMIO());
        MemorySegment m = kvm_run.mmio(run);
        kvm_run.mmio.phys_addr(m, 0x1000000L);
        kvm_run.mmio.len(m, 4);
        kvm_run.mmio.is_write(m, (byte) 1);
        kvm_run.mmio.data(m).set(ValueLayout.JAVA_INT_UNALIGNED, 0, 0xdeadbeef);

        var exit = assertInstanceOf(VcpuExit.Mmio.class, KvmRunDecoder.decode(run));
        assertEquals(0x1000000L, exit.address());
        assertEquals(4, exit.length());
        assertTrue(exit.isWrite());
        assertEquals(4, exit.data().byteSize());
        assertEquals(0xdeadbeef, exit.data().get(ValueLayout.JAVA_INT_UNALIGNED, 0));
    }

    @Test
    void mmioReadDataViewWritesIntoKvmRun() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_MMIO());
        MemorySegment m = kvm_run.mmio(run);
        kvm_run.mmio.phys_addr(m, 0x1000005L);
        kvm_run.mmio.len(m, 1);
        var exit = assertInstanceOf(VcpuExit.Mmio.class, KvmRunDecoder.decode(run));
        assertFalse(exit.isWrite());
        exit.data().set(ValueLayout.JAVA_BYTE, 0, (byte) 0x60);
        // the answer must land where KVM reads it: kvm_run.mmio.data at offset 32+8
        assertEquals((byte) 0x60, run.get(ValueLayout.JAVA_BYTE, 40));
    }

    @Test
    void mmioWithImpossibleLengthIsNotTrusted() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_MMIO());
        kvm_run.mmio.len(kvm_run.mmio(run), 9);
        assertInstanceOf(VcpuExit.Unknown.class, KvmRunDecoder.decode(run));
    }

    @Test
    void hypercallDistinguishesSmcFromHvc() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_HYPERCALL());
        MemorySegment h = kvm_run.hypercall(run);
        kvm_run.hypercall.nr(h, 0xC4000020L);
        kvm_run.hypercall.flags(h, 0);
        var hvc = assertInstanceOf(VcpuExit.Hypercall.class, KvmRunDecoder.decode(run));
        assertEquals(0xC4000020L, hvc.functionId());
        assertFalse(hvc.smc());
        kvm_run.hypercall.flags(h, 1);
        assertTrue(assertInstanceOf(VcpuExit.Hypercall.class, KvmRunDecoder.decode(run)).smc());
    }

    @Test
    void systemEventTypeAndData() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_SYSTEM_EVENT());
        MemorySegment e = kvm_run.system_event(run);
        kvm_run.system_event.type(e, KvmUapi.KVM_SYSTEM_EVENT_RESET());
        kvm_run.system_event.ndata(e, 2);
        kvm_run.system_event.data(e).setAtIndex(ValueLayout.JAVA_LONG, 0, 7L);
        kvm_run.system_event.data(e).setAtIndex(ValueLayout.JAVA_LONG, 1, 9L);
        var ev = assertInstanceOf(VcpuExit.SystemEvent.class, KvmRunDecoder.decode(run));
        assertEquals(VcpuExit.SystemEvent.RESET, ev.type());
        assertEquals(KvmUapi.KVM_SYSTEM_EVENT_RESET(), ev.type());
        assertArrayEquals(new long[] {7, 9}, ev.data());
    }

    @Test
    void systemEventNdataIsClampedToTheArray() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_SYSTEM_EVENT());
        MemorySegment e = kvm_run.system_event(run);
        kvm_run.system_event.type(e, KvmUapi.KVM_SYSTEM_EVENT_SHUTDOWN());
        kvm_run.system_event.ndata(e, 1000);
        var ev = assertInstanceOf(VcpuExit.SystemEvent.class, KvmRunDecoder.decode(run));
        assertEquals(VcpuExit.SystemEvent.SHUTDOWN, ev.type());
        assertEquals(16, ev.data().length);
    }

    @Test
    void failEntryReasonAndCpu() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_FAIL_ENTRY());
        MemorySegment f = kvm_run.fail_entry(run);
        kvm_run.fail_entry.hardware_entry_failure_reason(f, 0x123L);
        kvm_run.fail_entry.cpu(f, 3);
        var fe = assertInstanceOf(VcpuExit.FailEntry.class, KvmRunDecoder.decode(run));
        assertEquals(0x123L, fe.hardwareReason());
        assertEquals(3, fe.cpu());
    }

    @Test
    void internalErrorSuberrorAndData() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_INTERNAL_ERROR());
        MemorySegment i = kvm_run.internal(run);
        kvm_run.internal.suberror(i, 1);
        kvm_run.internal.ndata(i, 1);
        kvm_run.internal.data(i).setAtIndex(ValueLayout.JAVA_LONG, 0, 42L);
        var ie = assertInstanceOf(VcpuExit.Internal.class, KvmRunDecoder.decode(run));
        assertEquals(1, ie.suberror());
        assertArrayEquals(new long[] {42}, ie.data());
    }

    @Test
    void intrIsInterrupted() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_INTR());
        assertInstanceOf(VcpuExit.Interrupted.class, KvmRunDecoder.decode(run));
    }

    @Test
    void anythingElseIsUnknownWithTheReason() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_ARM_NISV());
        assertEquals(new VcpuExit.Unknown(KvmUapi.KVM_EXIT_ARM_NISV()), KvmRunDecoder.decode(run));
        kvm_run.exit_reason(run, 0x7777);
        assertEquals(new VcpuExit.Unknown(0x7777), KvmRunDecoder.decode(run));
    }
}
