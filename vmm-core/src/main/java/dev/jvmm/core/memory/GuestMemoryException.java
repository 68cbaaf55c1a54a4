package dev.jvmm.core.memory;

/** A guest physical access outside guest memory: guest input, never a VMM bug by itself. */
public final class GuestMemoryException extends RuntimeException {
    private final long gpa;
    private final long length;

    public GuestMemoryException(long gpa, long length, String what) {
        super(String.format("guest access [0x%x, +0x%x) %s", gpa, length, what));
        this.gpa = gpa;
        this.length = length;
    }

    public long gpa() {
        return gpa;
    }

    public long length() {
        return length;
    }
}
