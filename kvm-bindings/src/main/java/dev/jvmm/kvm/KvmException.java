package dev.jvmm.kvm;

/**
 * A failed system call in the KVM layer, naming the operation and the errno by name, e.g. {@code
 * KVM_SET_ONE_REG(STD_BMAP): EBUSY}.
 */
public final class KvmException extends RuntimeException {
    private final String operation;
    private final int errno;

    public KvmException(String operation, int errno) {
        super(operation + ": " + Errno.name(errno));
        this.operation = operation;
        this.errno = errno;
    }

    public String operation() {
        return operation;
    }

    public int errno() {
        return errno;
    }

    public String errnoName() {
        return Errno.name(errno);
    }
}
