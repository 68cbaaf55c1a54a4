package dev.jvmm.core.virtio;

import dev.jvmm.core.device.MmioDevice;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.virtio.pci.VirtioPciTransport;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A driver's view of one transport, so one test runs against virtio-mmio and virtio-pci alike: each
 * operation goes through that transport's own registers, as a guest kernel's driver would.
 */
abstract class TransportPort {
    final AtomicInteger interrupts = new AtomicInteger();
    final VirtioTransport transport;

    TransportPort(java.util.function.Function<VirtioInterrupt, VirtioTransport> make) {
        this.transport = make.apply(interrupts::incrementAndGet);
    }

    abstract int status();

    abstract void status(int v);

    abstract long deviceFeatures();

    abstract void driverFeatures(long f);

    abstract void selectQueue(int q);

    abstract void queueSize(int n);

    abstract void queueAddresses(long desc, long driver, long device);

    abstract void enable(int v);

    abstract int enabled();

    abstract void notify(int q);

    /** Reads why the device interrupted and acknowledges it. */
    abstract int takeInterrupts();

    abstract byte[] readConfig(int off, int len);

    abstract void writeConfig(int off, byte[] data);

    VirtioCore core() {
        return transport.core();
    }

    long errors(VirtioError kind) {
        return core().errorCounter().count(kind);
    }

    static long le(byte[] d) {
        long v = 0;
        for (int i = 0; i < d.length; i++) v |= (d[i] & 0xffL) << (8 * i);
        return v;
    }

    static byte[] bytes(long v, int len) {
        byte[] d = new byte[len];
        for (int i = 0; i < len; i++) d[i] = (byte) (v >>> (8 * i));
        return d;
    }

    static TransportPort mmio(VirtioDevice device, GuestMemory mem) {
        return new Mmio(device, mem);
    }

    static TransportPort pci(VirtioDevice device, GuestMemory mem) {
        return new Pci(device, mem);
    }

    private static final class Mmio extends TransportPort {
        Mmio(VirtioDevice device, GuestMemory mem) {
            super(irq -> new VirtioMmioTransport(device, mem, irq));
        }

        private MmioDevice regs() {
            return (VirtioMmioTransport) transport;
        }

        private int r(int off) {
            byte[] d = new byte[4];
            regs().read(off, d);
            return (int) le(d);
        }

        private void w(int off, int v) {
            regs().write(off, bytes(v, 4));
        }

        @Override
        int status() {
            return r(0x70);
        }

        @Override
        void status(int v) {
            w(0x70, v);
        }

        @Override
        long deviceFeatures() {
            w(0x14, 0);
            long lo = Integer.toUnsignedLong(r(0x10));
            w(0x14, 1);
            return lo | (long) r(0x10) << 32;
        }

        @Override
        void driverFeatures(long f) {
            w(0x24, 0);
            w(0x20, (int) f);
            w(0x24, 1);
            w(0x20, (int) (f >>> 32));
        }

        @Override
        void selectQueue(int q) {
            w(0x30, q);
        }

        @Override
        void queueSize(int n) {
            w(0x38, n);
        }

        @Override
        void queueAddresses(long desc, long driver, long device) {
            w(0x80, (int) desc);
            w(0x84, (int) (desc >>> 32));
            w(0x90, (int) driver);
            w(0x94, (int) (driver >>> 32));
            w(0xa0, (int) device);
            w(0xa4, (int) (device >>> 32));
        }

        @Override
        void enable(int v) {
            w(0x44, v);
        }

        @Override
        int enabled() {
            return r(0x44);
        }

        @Override
        void notify(int q) {
            w(0x50, q);
        }

        @Override
        int takeInterrupts() {
            int s = r(0x60);
            w(0x64, s);
            return s;
        }

        @Override
        byte[] readConfig(int off, int len) {
            byte[] d = new byte[len];
            regs().read(0x100 + off, d);
            return d;
        }

        @Override
        void writeConfig(int off, byte[] data) {
            regs().write(0x100 + off, data);
        }
    }

    private static final class Pci extends TransportPort {
        Pci(VirtioDevice device, GuestMemory mem) {
            super(irq -> new VirtioPciTransport(device, mem, irq));
        }

        private MmioDevice bar() {
            return ((VirtioPciTransport) transport).bar();
        }

        private long r(int off, int len) {
            byte[] d = new byte[len];
            bar().read(off, d);
            return le(d);
        }

        private void w(int off, int len, long v) {
            bar().write(off, bytes(v, len));
        }

        @Override
        int status() {
            return (int) r(0x14, 1);
        }

        @Override
        void status(int v) {
            w(0x14, 1, v);
        }

        @Override
        long deviceFeatures() {
            w(0x00, 4, 0);
            long lo = r(0x04, 4);
            w(0x00, 4, 1);
            return lo | r(0x04, 4) << 32;
        }

        @Override
        void driverFeatures(long f) {
            w(0x08, 4, 0);
            w(0x0c, 4, f & 0xffffffffL);
            w(0x08, 4, 1);
            w(0x0c, 4, f >>> 32);
        }

        @Override
        void selectQueue(int q) {
            w(0x16, 2, q);
        }

        @Override
        void queueSize(int n) {
            w(0x18, 2, n);
        }

        @Override
        void queueAddresses(long desc, long driver, long device) {
            // as Linux writes them: two 32-bit halves each
            w(0x20, 4, desc & 0xffffffffL);
            w(0x24, 4, desc >>> 32);
            w(0x28, 4, driver & 0xffffffffL);
            w(0x2c, 4, driver >>> 32);
            w(0x30, 4, device & 0xffffffffL);
            w(0x34, 4, device >>> 32);
        }

        @Override
        void enable(int v) {
            w(0x1c, 2, v);
        }

        @Override
        int enabled() {
            return (int) r(0x1c, 2);
        }

        @Override
        void notify(int q) {
            // queue q's notify address: queue_notify_off (= q, VirtioPciTransportTest checks)
            // times the multiplier, 4
            w(0x3000 + q * 4, 2, q);
        }

        @Override
        int takeInterrupts() {
            return (int) r(0x1000, 1);
        }

        @Override
        byte[] readConfig(int off, int len) {
            byte[] d = new byte[len];
            bar().read(0x2000 + off, d);
            return d;
        }

        @Override
        void writeConfig(int off, byte[] data) {
            bar().write(0x2000 + off, data);
        }
    }
}
