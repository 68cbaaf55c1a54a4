package dev.jvmm.core.virtio.net;

import dev.jvmm.core.memory.GuestMemoryException;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.virtio.DescriptorChain;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioActivation;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioError;
import dev.jvmm.core.virtio.Virtqueue;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;

/**
 * virtio-net (spec 5.1) without offloads: VIRTIO_NET_F_MAC and VIRTIO_NET_F_STATUS (link always
 * up), one receive and one transmit queue, no mergeable buffers. Every buffer starts with the
 * 12-byte {@code virtio_net_hdr_v1}: stripped on transmit, zeroed (num_buffers = 1) on receive.
 *
 * <p>Transmit runs on the notifying thread. Receive runs on a device-owned thread that reads one
 * frame at a time from the backend and waits for the guest to post a receive buffer; a frame that
 * does not fit the buffer is dropped (and the buffer kept for the next frame), and frames arriving
 * while the device is not active are dropped. {@link #close} closes the backend, which unblocks the
 * reader, and joins it.
 */
public final class VirtioNetDevice implements VirtioDevice {
    public static final int RX = 0, TX = 1;
    public static final int F_MAC = 5, F_STATUS = 16;
    public static final int HDR_LEN = 12;

    /**
     * Largest frame either way: a tap without offloads never exceeds MTU + headers; 64 KiB leaves
     * room for jumbo MTUs.
     */
    public static final int MAX_FRAME = 65536;

    public static final int QUEUE_SIZE = 256;
    static final int CONFIG_SIZE = 12; // mac[6], status, max_virtqueue_pairs, mtu
    private static final System.Logger LOG = System.getLogger(VirtioNetDevice.class.getName());

    private final NetBackend backend;
    private final byte[] config = new byte[CONFIG_SIZE];
    private final Object txLock = new Object();
    private final Object rxLock = new Object();
    private final AtomicLong rxFrames = new AtomicLong(), rxDropped = new AtomicLong();
    private final AtomicLong txFrames = new AtomicLong(), txDropped = new AtomicLong();
    private VirtioActivation
            activation; // guarded by rxLock (reads elsewhere through the volatile copy)
    private volatile VirtioActivation txActivation;
    private DescriptorChain parked; // a posted RX buffer not yet filled; guarded by rxLock
    private Thread rxThread; // guarded by rxLock
    private boolean held; // guarded by rxLock: paused, frames wait in the backend
    private volatile boolean closed;

    /**
     * @param mac the guest's MAC address (6 bytes)
     */
    public VirtioNetDevice(NetBackend backend, byte[] mac) {
        if (mac.length != 6)
            throw new IllegalArgumentException("MAC address must be 6 bytes, got " + mac.length);
        this.backend = backend;
        System.arraycopy(mac, 0, config, 0, 6);
        config[6] = 1; // VIRTIO_NET_S_LINK_UP
        config[8] = 1; // max_virtqueue_pairs (read only with MQ, but say the truth)
    }

    public long rxFrames() {
        return rxFrames.get();
    }

    public long rxDropped() {
        return rxDropped.get();
    }

    public long txFrames() {
        return txFrames.get();
    }

    public long txDropped() {
        return txDropped.get();
    }

    @Override
    public int deviceType() {
        return Virtio.ID_NET;
    }

    @Override
    public long deviceFeatures() {
        return Virtio.bit(F_MAC) | Virtio.bit(F_STATUS);
    }

    @Override
    public int queueCount() {
        return 2;
    }

    @Override
    public int maxQueueSize() {
        return QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public void readConfig(int offset, byte[] data) {
        System.arraycopy(config, offset, data, 0, data.length);
    }

    @Override
    public void activate(VirtioActivation a) {
        synchronized (rxLock) {
            if (closed) return;
            activation = a;
            txActivation = a;
            parked = null;
            if (rxThread == null) {
                rxThread =
                        Thread.ofPlatform().daemon().name("virtio-net-rx").start(this::receiveLoop);
            }
            rxLock.notifyAll();
        }
    }

    @Override
    public void queueNotify(int queue) {
        if (queue == TX) {
            transmit();
        } else {
            synchronized (rxLock) {
                rxLock.notifyAll(); // new receive buffers for a waiting frame
            }
        }
    }

    private void transmit() {
        synchronized (txLock) {
            VirtioActivation a = txActivation;
            if (a == null || closed) return;
            Virtqueue q = a.queue(TX);
            DescriptorChain c;
            while ((c = q.pop()) != null) {
                long frame = c.readableLength() - HDR_LEN;
                if (frame <= 0 || frame > MAX_FRAME) {
                    a.error(
                            VirtioError.BAD_REQUEST,
                            "transmit chain of " + c.readableLength() + " readable bytes");
                    txDropped.incrementAndGet();
                } else {
                    byte[] b = new byte[(int) frame];
                    c.read(HDR_LEN, b, 0, b.length);
                    try {
                        backend.write(b, 0, b.length);
                        txFrames.incrementAndGet();
                    } catch (IOException e) {
                        txDropped.incrementAndGet();
                        if (!closed) a.error(VirtioError.BACKEND_IO, "transmit: " + e);
                    }
                }
                q.addUsed(c, 0);
            }
            q.notifyGuest();
        }
    }

    private void receiveLoop() {
        byte[] buf = new byte[HDR_LEN + MAX_FRAME];
        while (!closed) {
            int n;
            try {
                n = backend.read(buf, HDR_LEN, MAX_FRAME);
            } catch (IOException e) {
                if (closed) break;
                LOG.log(Level.WARNING, "virtio-net: backend read failed, receive stops: " + e);
                break;
            }
            if (n < 0) break;
            try {
                deliver(buf, n);
            } catch (InterruptedException e) {
                break;
            } catch (GuestMemoryException | IndexOutOfBoundsException e) {
                rxDropped.incrementAndGet();
                VirtioActivation a = currentActivation();
                if (a != null) a.fail(VirtioError.GUEST_MEMORY, "receive: " + e.getMessage());
            } catch (RuntimeException e) { // a VMM bug: log it, but do not end reception for good
                rxDropped.incrementAndGet();
                LOG.log(Level.ERROR, "virtio-net: receive failed", e);
            }
        }
    }

    private VirtioActivation currentActivation() {
        synchronized (rxLock) {
            return activation;
        }
    }

    /**
     * Places one frame (at buf[HDR_LEN..]) into the next receive buffer, waiting for one if needed.
     */
    private void deliver(byte[] buf, int n) throws InterruptedException {
        synchronized (rxLock) {
            while (true) {
                if (closed || activation == null) {
                    rxDropped.incrementAndGet();
                    return;
                }
                if (held) {
                    rxLock.wait(); // paused: the frame waits here, later ones in the tap
                    continue;
                }
                if (parked == null) parked = activation.queue(RX).pop();
                if (parked != null) break;
                rxLock.wait();
            }
            if (parked.writableLength() < HDR_LEN + n) {
                rxDropped.incrementAndGet();
                activation.error(
                        VirtioError.REQUEST_REJECTED,
                        "receive buffer of "
                                + parked.writableLength()
                                + " bytes for a "
                                + n
                                + "-byte frame");
                return; // the buffer stays parked for a frame that fits
            }
            java.util.Arrays.fill(buf, 0, HDR_LEN, (byte) 0);
            buf[10] = 1; // num_buffers
            parked.write(0, buf, 0, HDR_LEN + n);
            Virtqueue q = activation.queue(RX);
            q.addUsed(parked, HDR_LEN + n);
            parked = null;
            rxFrames.incrementAndGet();
            q.notifyGuest();
        }
    }

    /**
     * Holds received frames (the receive thread waits before touching guest memory) and waits for a
     * frame being written into a receive buffer. Transmission needs no hold: it runs only on
     * notifications, which the machine holds while paused.
     */
    @Override
    public void quiesce() {
        synchronized (rxLock) {
            held = true;
        }
    }

    @Override
    public void resume() {
        synchronized (rxLock) {
            held = false;
            rxLock.notifyAll();
        }
    }

    @Override
    public void reset() {
        synchronized (rxLock) {
            activation = null;
            txActivation = null;
            parked = null;
            rxLock.notifyAll();
        }
    }

    /**
     * Closes the backend (unblocking the receive thread) and waits up to 5 s for that thread.
     * Idempotent.
     */
    @Override
    public void close() {
        Thread t;
        synchronized (rxLock) {
            if (closed) return;
            closed = true;
            activation = null;
            txActivation = null;
            parked = null;
            t = rxThread;
            rxLock.notifyAll();
        }
        try {
            backend.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "virtio-net: closing the backend: " + e);
        }
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive())
                LOG.log(
                        Level.WARNING,
                        "virtio-net: receive thread still blocked in the backend after close");
        }
    }

    @Override
    public Record saveDeviceState() {
        return new VirtioNetState(mac(), config[6] & 0xff);
    }

    @Override
    public Class<? extends Record> deviceStateType() {
        return VirtioNetState.class;
    }

    /**
     * The config space follows from the machine's configuration (the MAC given or derived from the
     * tap), so restoring only checks that the guest would see what it saw: a different MAC would
     * change the guest's identity on its network under its feet.
     */
    @Override
    public void restoreDeviceState(Record state, String part) {
        VirtioNetState s = (VirtioNetState) state;
        if (!mac().equals(s.mac())) {
            throw SnapshotException.invalid(
                    part, "device: mac " + s.mac() + " is not this NIC's " + mac());
        }
        if (s.status() != (config[6] & 0xff))
            throw SnapshotException.invalid(part, "device: status " + s.status());
    }

    private String mac() {
        StringBuilder b = new StringBuilder(17);
        for (int i = 0; i < 6; i++)
            b.append(i > 0 ? ":" : "").append(String.format("%02x", config[i]));
        return b.toString();
    }

    @Override
    public String name() {
        return "virtio-net";
    }
}
