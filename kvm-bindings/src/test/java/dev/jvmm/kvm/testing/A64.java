package dev.jvmm.kvm.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A tiny arm64 instruction encoder for hand-assembled kvm-tier guests: just the instructions those
 * guests use. A64Test checks every encoding against the cross assembler.
 */
public final class A64 {
    private final ByteArrayOutputStream code = new ByteArrayOutputStream();

    /** Byte offset of the next instruction. */
    public int here() {
        return code.size();
    }

    public A64 emit(int insn) {
        code.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(insn).array());
        return this;
    }

    /** MOVZ/MOVK sequence loading a 64-bit constant into {@code xd}. */
    public A64 mov64(int xd, long value) {
        emit(movz(xd, (int) (value & 0xffff), 0));
        for (int hw = 1; hw < 4; hw++) {
            int part = (int) ((value >>> (16 * hw)) & 0xffff);
            if (part != 0) emit(movk(xd, part, hw));
        }
        return this;
    }

    public static int movz(int xd, int imm16, int hw) {
        return 0xD2800000 | hw << 21 | (imm16 & 0xffff) << 5 | xd;
    }

    public static int movk(int xd, int imm16, int hw) {
        return 0xF2800000 | hw << 21 | (imm16 & 0xffff) << 5 | xd;
    }

    /** STR Xt, [Xn, #off] (off a multiple of 8, < 32 KiB). */
    public static int strX(int xt, int xn, int off) {
        return 0xF9000000 | (off / 8) << 10 | xn << 5 | xt;
    }

    /** STR Wt, [Xn, #off] (off a multiple of 4). */
    public static int strW(int wt, int xn, int off) {
        return 0xB9000000 | (off / 4) << 10 | xn << 5 | wt;
    }

    /** STRB Wt, [Xn, #off]. */
    public static int strB(int wt, int xn, int off) {
        return 0x39000000 | off << 10 | xn << 5 | wt;
    }

    /** LDR Xt, [Xn, #off]. */
    public static int ldrX(int xt, int xn, int off) {
        return 0xF9400000 | (off / 8) << 10 | xn << 5 | xt;
    }

    /** MOV Xd, Xm (ORR Xd, XZR, Xm). */
    public static int movX(int xd, int xm) {
        return 0xAA0003E0 | xm << 16 | xd;
    }

    public static int hvc(int imm16) {
        return 0xD4000002 | imm16 << 5;
    }

    public static int smc(int imm16) {
        return 0xD4000003 | imm16 << 5;
    }

    /** B to a byte offset relative to this instruction (0 = branch to self). */
    public static int b(int byteOffset) {
        return 0x14000000 | ((byteOffset / 4) & 0x3ffffff);
    }

    /** MSR S{op0}_{op1}_C{crn}_C{crm}_{op2}, Xt. */
    public static int msr(int op0, int op1, int crn, int crm, int op2, int xt) {
        return 0xD5000000 | op0 << 19 | op1 << 16 | crn << 12 | crm << 8 | op2 << 5 | xt;
    }

    /** MRS Xt, S{op0}_{op1}_C{crn}_C{crm}_{op2}. */
    public static int mrs(int xt, int op0, int op1, int crn, int crm, int op2) {
        return msr(op0, op1, crn, crm, op2, xt) | 1 << 21;
    }

    /** MOV SP, Xn (ADD SP, Xn, #0): the current stack pointer (SP_EL1 at EL1h). */
    public static int movToSp(int xn) {
        return 0x9100001F | xn << 5;
    }

    /** MOV Xd, SP (ADD Xd, SP, #0). */
    public static int movFromSp(int xd) {
        return 0x910003E0 | xd;
    }

    public static final int NOP = 0xD503201F;

    public byte[] bytes() {
        return code.toByteArray();
    }
}
