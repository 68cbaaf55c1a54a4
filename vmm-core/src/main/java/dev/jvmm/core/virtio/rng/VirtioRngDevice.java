package dev.jvmm.core.virtio.rng;

import dev.jvmm.core.virtio.DescriptorChain;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioActivation;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioError;
import dev.jvmm.core.virtio.Virtqueue;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;

/**
 * virtio-rng (spec 5.4): fills each writable buffer from an entropy stream ({@code /dev/urandom} in
 * real runs), at most {@link #MAX_BYTES_PER_REQUEST} per request so one huge guest buffer cannot
 * hold the notifying thread for long. A failing or ended stream answers with length 0 and counts
 * BACKEND_IO.
 */
public final class VirtioRngDevice implements VirtioDevice {
    public static final int MAX_BYTES_PER_REQUEST = 64 * 1024;
    public static final int QUEUE_SIZE = 256;
    private static final System.Logger LOG = System.getLogger(VirtioRngDevice.class.getName());

    private final InputStream entropy;
    private final Object lock = new Object();
    private final byte[] buf = new byte[MAX_BYTES_PER_REQUEST];
    private VirtioActivation activation; // guarded by lock
    private boolean closed; // guarded by lock
    private long bytesServed; // guarded by lock

    public VirtioRngDevice(InputStream entropy) {
        this.entropy = entropy;
    }

    @Override
    public int deviceType() {
        return Virtio.ID_RNG;
    }

    @Override
    public long deviceFeatures() {
        return 0;
    }

    @Override
    public int queueCount() {
        return 1;
    }

    @Override
    public int maxQueueSize() {
        return QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return 0;
    }

    @Override
    public void readConfig(int offset, byte[] data) {}

    @Override
    public void activate(VirtioActivation a) {
        synchronized (lock) {
            if (!closed) activation = a;
        }
    }

    @Override
    public void queueNotify(int queue) {
        synchronized (lock) {
            VirtioActivation a = activation;
            if (a == null || closed) return;
            Virtqueue q = a.queue(0);
            DescriptorChain c;
            while ((c = q.pop()) != null) {
                int n = (int) Math.min(c.writableLength(), MAX_BYTES_PER_REQUEST);
                try {
                    if (entropy.readNBytes(buf, 0, n) != n)
                        throw new EOFException("entropy stream ended");
                    c.write(0, buf, 0, n);
                    bytesServed += n;
                } catch (IOException e) {
                    a.error(VirtioError.BACKEND_IO, "entropy source: " + e);
                    n = 0;
                }
                q.addUsed(c, n);
            }
            q.notifyGuest();
        }
    }

    /** Entropy bytes handed to the guest so far. */
    public long bytesServed() {
        synchronized (lock) {
            return bytesServed;
        }
    }

    @Override
    public void reset() {
        synchronized (lock) {
            activation = null;
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) return;
            closed = true;
            activation = null;
            try {
                entropy.close();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "virtio-rng: closing the entropy source: " + e);
            }
        }
    }

    @Override
    public String name() {
        return "virtio-rng";
    }
}
