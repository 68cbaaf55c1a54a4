package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.uapi.KvmUapi;
import dev.jvmm.kvm.uapi.kvm_run;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The fast path's constants and offsets agree with the generated (compiler-checked) bindings: a
 * field written through the generated accessors reads back through {@link KvmRunLayout}.
 */
class KvmRunLayoutTest {
    private final MemorySegment run = kvm_run.allocate(Arena.ofAuto());

    @Test
    void exitReasonsAreTheKernelHeadersValues() {
        assertEquals(KvmUapi.KVM_EXIT_UNKNOWN(), KvmRunLayout.EXIT_UNKNOWN);
        assertEquals(KvmUapi.KVM_EXIT_HYPERCALL(), KvmRunLayout.EXIT_HYPERCALL);
        assertEquals(KvmUapi.KVM_EXIT_MMIO(), KvmRunLayout.EXIT_MMIO);
        assertEquals(KvmUapi.KVM_EXIT_FAIL_ENTRY(), KvmRunLayout.EXIT_FAIL_ENTRY);
        assertEquals(KvmUapi.KVM_EXIT_INTR(), KvmRunLayout.EXIT_INTR);
        assertEquals(KvmUapi.KVM_EXIT_INTERNAL_ERROR(), KvmRunLayout.EXIT_INTERNAL_ERROR);
        assertEquals(KvmUapi.KVM_EXIT_SYSTEM_EVENT(), KvmRunLayout.EXIT_SYSTEM_EVENT);
        assertEquals(kvm_run.mmio.data$layout().byteSize(), (long) KvmRunLayout.MMIO_MAX_LEN);
    }

    @Test
    void mmioFieldsReadWhereTheGeneratedLayoutWroteThem() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_MMIO());
        MemorySegment m = kvm_run.mmio(run);
        kvm_run.mmio.phys_addr(m, 0x0123_4567_89ab_cdefL);
        kvm_run.mmio.len(m, 4);
        kvm_run.mmio.is_write(m, (byte) 1);
        kvm_run.mmio.data(m).set(ValueLayout.JAVA_INT_UNALIGNED, 0, 0xdeadbeef);

        assertEquals(KvmRunLayout.EXIT_MMIO, KvmRunLayout.exitReason(run));
        assertEquals(0x0123_4567_89ab_cdefL, KvmRunLayout.mmioAddress(run));
        assertEquals(4, KvmRunLayout.mmioLength(run));
        assertTrue(KvmRunLayout.mmioIsWrite(run));
        byte[] data = new byte[4];
        KvmRunLayout.mmioDataTo(run, data);
        assertArrayEquals(new byte[] {(byte) 0xef, (byte) 0xbe, (byte) 0xad, (byte) 0xde}, data);

        kvm_run.mmio.is_write(m, (byte) 0);
        assertFalse(KvmRunLayout.mmioIsWrite(run));
        KvmRunLayout.mmioDataFrom(new byte[] {0x60}, run);
        // the answer must land where KVM reads it: kvm_run.mmio.data at offset 32+8
        assertEquals((byte) 0x60, run.get(ValueLayout.JAVA_BYTE, 40));
        assertEquals((byte) 0x60, kvm_run.mmio.data(m).get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void hypercallFieldsReadWhereTheGeneratedLayoutWroteThem() {
        kvm_run.exit_reason(run, KvmUapi.KVM_EXIT_HYPERCALL());
        MemorySegment h = kvm_run.hypercall(run);
        kvm_run.hypercall.nr(h, 0xC4000020L);
        kvm_run.hypercall.flags(h, KvmRunLayout.HYPERCALL_SMC);
        assertEquals(KvmRunLayout.EXIT_HYPERCALL, KvmRunLayout.exitReason(run));
        assertEquals(0xC4000020L, KvmRunLayout.hypercallNr(run));
        assertEquals(KvmRunLayout.HYPERCALL_SMC, KvmRunLayout.hypercallFlags(run));
    }

    @Test
    void offsetsAreTheGeneratedLayouts() {
        assertEquals(kvm_run.immediate_exit$offset(), KvmRunLayout.IMMEDIATE_EXIT);
        assertEquals(kvm_run.exit_reason$offset(), KvmRunLayout.EXIT_REASON);
        long mmio = kvm_run.mmio$offset(), hypercall = kvm_run.hypercall$offset();
        assertEquals(mmio + kvm_run.mmio.phys_addr$offset(), KvmRunLayout.MMIO_PHYS_ADDR);
        assertEquals(mmio + kvm_run.mmio.data$offset(), KvmRunLayout.MMIO_DATA);
        assertEquals(mmio + kvm_run.mmio.len$offset(), KvmRunLayout.MMIO_LEN);
        assertEquals(mmio + kvm_run.mmio.is_write$offset(), KvmRunLayout.MMIO_IS_WRITE);
        assertEquals(hypercall + kvm_run.hypercall.nr$offset(), KvmRunLayout.HYPERCALL_NR);
        assertEquals(hypercall + kvm_run.hypercall.flags$offset(), KvmRunLayout.HYPERCALL_FLAGS);
    }

    @Test
    void immediateExitIsSetAndClearedWhereKvmReadsIt() {
        KvmRunLayout.immediateExit(run, true);
        assertEquals((byte) 1, kvm_run.immediate_exit(run));
        KvmRunLayout.immediateExit(run, false);
        assertEquals((byte) 0, kvm_run.immediate_exit(run));
    }
}
