package dev.jvmm.core.hypercall;

import java.util.Arrays;

/** What the router writes back to the caller after a service handled a call. */
public sealed interface SmcccResult {
    /** SMCCC 1.1 results: x0..x3 are written (KVM writes all four for its own calls too). */
    record Values(long x0, long x1, long x2, long x3) implements SmcccResult {}

    /** SMCCC 1.2 results in x0..x{n-1}, n at most 18; registers after them keep their values. */
    @SuppressWarnings(
            "ArrayRecordComponent") // defensive copies, and equals/hashCode/toString below use the
    // contents
    record Wide(long[] regs) implements SmcccResult {
        public Wide {
            if (regs.length < 1 || regs.length > Smccc.MAX_REGS) {
                throw new IllegalArgumentException(regs.length + " result registers (1..18)");
            }
            regs = regs.clone();
        }

        @Override
        public long[] regs() {
            return regs.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Wide w && Arrays.equals(regs, w.regs);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(regs);
        }

        @Override
        public String toString() {
            return "Wide" + Arrays.toString(regs);
        }
    }

    /**
     * The service already set the vCPU's registers (an SDEI COMPLETE switches back to the
     * interrupted context and "does not return"), so nothing is written.
     */
    record Written() implements SmcccResult {}

    static SmcccResult of(long x0) {
        return new Values(x0, 0, 0, 0);
    }

    static SmcccResult of(long x0, long x1) {
        return new Values(x0, x1, 0, 0);
    }

    static SmcccResult notSupported() {
        return of(Smccc.NOT_SUPPORTED);
    }
}
