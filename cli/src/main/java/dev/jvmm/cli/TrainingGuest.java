package dev.jvmm.cli;

import dev.jvmm.core.arch.Layout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The bare-metal guest {@code jvmm aot-train} boots: an arm64 Image header and six hand-assembled
 * A64 instructions that write one byte to the 8250 UART at the layout's address (an MMIO exit to
 * userspace) and then power off through PSCI SYSTEM_OFF over HVC (a hypercall exit), so the AOT
 * cache's training run goes through {@code run} up to and past the first {@code KVM_RUN}.
 */
final class TrainingGuest {
    /** arm64 Image header size; the code starts right after it. */
    static final int HEADER_SIZE = 64;

    private static final int IMAGE_MAGIC = 0x644d5241; // "ARM\x64"
    private static final int PSCI_SYSTEM_OFF = 0x8400_0008;
    private static final byte BYTE_WRITTEN = '.';

    private TrainingGuest() {}

    /** The whole Image file. */
    static byte[] image() {
        return image(code());
    }

    /**
     * The guest {@code aot-train} snapshots and restores: the same UART write, then {@code wfi} in
     * a loop, so it stays up (asleep in KVM, no interrupt is ever armed) until it is stopped.
     */
    static byte[] idleImage() {
        return image(idleCode());
    }

    static int[] idleCode() {
        int[] code = code();
        int[] idle = java.util.Arrays.copyOf(code, 6);
        idle[4] = WFI;
        idle[5] = branch(-4); // back to the wfi
        return idle;
    }

    private static final int WFI = 0xd503207f;

    private static byte[] image(int[] code) {
        ByteBuffer b =
                ByteBuffer.allocate(HEADER_SIZE + 4 * code.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, branch(HEADER_SIZE)); // code0: over the header
        b.putLong(16, b.capacity()); // image_size (text_offset at 8 stays 0)
        b.putLong(24, 0xa); // flags: little endian, 4 KiB pages, anywhere in RAM
        b.putInt(0x38, IMAGE_MAGIC);
        for (int i = 0; i < code.length; i++) b.putInt(HEADER_SIZE + 4 * i, code[i]);
        return b.array();
    }

    /** The instructions after the header. */
    static int[] code() {
        long uart = Layout.UART_BASE;
        return new int[] {
            movz(19, (int) (uart & 0xffff), 0),
            movk(19, (int) ((uart >>> 16) & 0xffff), 1), // x19 = UART THR (uart < 4 GiB)
            movz(1, BYTE_WRITTEN, 0),
            strb(1, 19, 0), // MMIO write: KVM_EXIT_MMIO to the UART device
            movz(0, PSCI_SYSTEM_OFF & 0xffff, 0),
            movk(0, PSCI_SYSTEM_OFF >>> 16, 1),
            hvc(0), // PSCI SYSTEM_OFF: the VM powers off, jvmm exits 0
            branch(0) // b . (SYSTEM_OFF does not return)
        };
    }

    static int movz(int xd, int imm16, int hw) {
        return 0xd2800000 | hw << 21 | imm16 << 5 | xd;
    }

    static int movk(int xd, int imm16, int hw) {
        return 0xf2800000 | hw << 21 | imm16 << 5 | xd;
    }

    /** {@code strb wT, [xN, #off]}. */
    static int strb(int wt, int xn, int off) {
        return 0x39000000 | off << 10 | xn << 5 | wt;
    }

    static int hvc(int imm16) {
        return 0xd4000002 | imm16 << 5;
    }

    /** {@code b} to byteOffset from this instruction. */
    static int branch(int byteOffset) {
        return 0x14000000 | (byteOffset >> 2) & 0x03ffffff;
    }
}
