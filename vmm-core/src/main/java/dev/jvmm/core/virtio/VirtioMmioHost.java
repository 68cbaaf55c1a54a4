package dev.jvmm.core.virtio;

/**
 * A {@link VirtioMmioTransport}'s side of rings and devices: counting, NEEDS_RESET, interrupts.
 * Never takes the register lock, so device threads never wait for a register access.
 */
final class VirtioMmioHost implements VirtioHost {
    private final VirtioMmioTransport t;

    VirtioMmioHost(VirtioMmioTransport t) {
        this.t = t;
    }

    @Override
    public void error(VirtioError kind, String detail) {
        t.errors.count(kind, detail);
    }

    @Override
    public void fail(VirtioError kind, String detail) {
        t.errors.count(kind, detail);
        if (t.needsResetBit.getAndSet(Virtio.STATUS_NEEDS_RESET) == 0 && t.activated) {
            raise(Virtio.INT_CONFIG_CHANGE); // spec 2.1.2: NEEDS_RESET after DRIVER_OK
            // comes with a config change
        }
    }

    @Override
    public void usedBuffer(int queue) {
        raise(Virtio.INT_USED_BUFFER);
    }

    @Override
    public void configChanged() {
        t.configGeneration.incrementAndGet();
        raise(Virtio.INT_CONFIG_CHANGE);
    }

    private void raise(int bit) {
        t.interruptStatus.getAndUpdate(s -> s | bit);
        t.irq.trigger();
    }
}
