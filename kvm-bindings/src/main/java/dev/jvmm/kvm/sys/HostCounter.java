package dev.jvmm.kvm.sys;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The host's generic-timer frequency, CNTFRQ_EL0: what a KVM guest reads as its own (KVM does not
 * virtualise it for an EL1 guest), and what KVM does not rescale when a guest moves to another
 * host. Linux offers no file or syscall for it, and KVM_GET_ONE_REG of CNTFRQ_EL0 answers KVM's
 * emulated reset value on newer kernels rather than the hardware's; but EL0 may read the register
 * (the kernel sets CNTKCTL_EL1.EL0VCTEN, as every arm64 vDSO relies on), so this runs the two
 * instructions {@code mrs x0, cntfrq_el0; ret} from a page mapped executable for the call.
 */
public final class HostCounter {
    private static final int MRS_X0_CNTFRQ_EL0 = 0xD53BE000;
    private static final int RET = 0xD65F03C0;
    private static final long PAGE = 4096;

    private HostCounter() {}

    private static final class Holder {
        static final long FREQUENCY = read();
    }

    /** CNTFRQ_EL0 in Hz; read once (firmware sets it at boot and nothing changes it later). */
    public static long frequency() {
        return Holder.FREQUENCY;
    }

    private static long read() {
        if (!"aarch64".equals(System.getProperty("os.arch"))) {
            throw new UnsupportedOperationException("CNTFRQ_EL0 exists only on arm64 hosts");
        }
        MemorySegment page =
                Libc.mmap(
                        PAGE,
                        Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS,
                        -1,
                        0,
                        "mmap(CNTFRQ_EL0 reader)");
        try {
            page.set(ValueLayout.JAVA_INT, 0, MRS_X0_CNTFRQ_EL0);
            page.set(ValueLayout.JAVA_INT, 4, RET);
            // W^X: executable only once written; making a user page executable has the kernel
            // clean the data cache and invalidate the instruction cache for it (arm64
            // set_pte_at), so the fetch sees the two instructions just stored
            Libc.mprotect(page, Libc.PROT_READ | Libc.PROT_EXEC, "mprotect(CNTFRQ_EL0 reader)");
            // called through libc's one downcall shape (six integer arguments, which the two
            // instructions ignore, and errno captured): a handle of its own shape made the JVM
            // spin 12 method-handle classes at run time for this one call
            return Libc.call(page);
        } finally {
            Libc.munmap(page);
        }
    }
}
