package dev.jvmm.core.virtio;

/**
 * A {@link VirtioCore}'s side of rings and devices: counting, NEEDS_RESET, interrupts. Never takes
 * the core's lock, so device threads never wait for a register access.
 */
final class VirtioCoreHost implements VirtioHost {
    private final VirtioCore c;

    VirtioCoreHost(VirtioCore c) {
        this.c = c;
    }

    @Override
    public void error(VirtioError kind, String detail) {
        c.errors.count(kind, detail);
    }

    @Override
    public void fail(VirtioError kind, String detail) {
        c.errors.count(kind, detail);
        if (c.needsResetBit.getAndSet(Virtio.STATUS_NEEDS_RESET) == 0 && c.activated) {
            raise(
                    Virtio.INT_CONFIG_CHANGE,
                    VirtioInterrupt.CONFIG); // spec 2.1.2: NEEDS_RESET after DRIVER_OK
            // comes with a config change
        }
    }

    @Override
    public void usedBuffer(int queue) {
        raise(Virtio.INT_USED_BUFFER, queue);
    }

    @Override
    public void configChanged() {
        c.configGeneration.incrementAndGet();
        raise(Virtio.INT_CONFIG_CHANGE, VirtioInterrupt.CONFIG);
    }

    private void raise(int bit, int source) {
        c.interruptStatus.getAndUpdate(s -> s | bit);
        c.irq.trigger(source);
    }
}
