package dev.jvmm.core.device;

/**
 * A device register model on the MMIO bus. Offsets are relative to the device's base, so a device
 * never knows where the platform put it. {@code data.length} is 1, 2, 4 or 8; multi-byte values are
 * little-endian, as the guest sees them. Reads arrive zero-filled, so a device may leave bytes it
 * does not implement untouched.
 *
 * <p>Called from vCPU threads, possibly several at once: implementations synchronize their own
 * state. Throwing {@link dev.jvmm.core.memory.GuestMemoryException} or {@link
 * IndexOutOfBoundsException} (a guest-supplied address gone bad) is contained by the bus; anything
 * else is a VMM bug and stops the VM.
 */
public interface MmioDevice {
    void read(long offset, byte[] data);

    void write(long offset, byte[] data);
}
