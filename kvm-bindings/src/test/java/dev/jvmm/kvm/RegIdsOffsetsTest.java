package dev.jvmm.kvm;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.PathElement.sequenceElement;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jvmm.kvm.uapi.kvm_regs;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import org.junit.jupiter.api.Test;

/** RegIds' hand-kept struct kvm_regs offsets agree with the generated (compiler-checked) layout. */
class RegIdsOffsetsTest {
    private static final MemoryLayout REGS = kvm_regs.layout();

    private static long off(PathElement... path) {
        return REGS.byteOffset(path);
    }

    @Test
    void generalRegistersSpPcAndPstate() {
        for (int n = 0; n < 31; n++) {
            assertEquals(
                    off(groupElement("regs"), groupElement("regs"), sequenceElement(n)),
                    RegIds.REGS + 8L * n,
                    "x" + n);
        }
        assertEquals(off(groupElement("regs"), groupElement("sp")), RegIds.SP_OFFSET);
        assertEquals(off(groupElement("regs"), groupElement("pc")), RegIds.PC_OFFSET);
        assertEquals(off(groupElement("regs"), groupElement("pstate")), RegIds.PSTATE_OFFSET);
    }

    @Test
    void el1RegistersAndSpsrBank() {
        assertEquals(off(groupElement("sp_el1")), RegIds.SP_EL1_OFFSET);
        assertEquals(off(groupElement("elr_el1")), RegIds.ELR_EL1_OFFSET);
        for (int n = 0; n < 5; n++) {
            assertEquals(
                    off(groupElement("spsr"), sequenceElement(n)), RegIds.SPSR_OFFSET + 8L * n);
        }
    }

    @Test
    void fpSimdStateAndTheWholeStruct() {
        assertEquals(off(groupElement("fp_regs")), RegIds.FP_REGS_OFFSET);
        assertEquals(off(groupElement("fp_regs"), groupElement("fpsr")), RegIds.FPSR_OFFSET);
        assertEquals(off(groupElement("fp_regs"), groupElement("fpcr")), RegIds.FPCR_OFFSET);
        assertEquals(REGS.byteSize(), RegIds.KVM_REGS_SIZE);
    }

    @Test
    void idsStillComeFromTheOffsets() {
        // KVM_REG_ARM_CORE_REG(regs.pc) = offsetof / 4 in the id's low bits
        assertEquals(RegIds.PC_OFFSET / 4, RegIds.PC & 0xffff);
        assertEquals(30 * 2, RegIds.x(30) & 0xffff);
        assertEquals((RegIds.FP_REGS_OFFSET + 16 * 31) / 4, RegIds.vreg(31) & 0xffff);
    }
}
