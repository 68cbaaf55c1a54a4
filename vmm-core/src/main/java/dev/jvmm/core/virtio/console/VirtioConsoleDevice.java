package dev.jvmm.core.virtio.console;

import dev.jvmm.core.memory.GuestMemoryException;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.virtio.DescriptorChain;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioActivation;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioError;
import dev.jvmm.core.virtio.Virtqueue;
import java.io.IOException;
import java.io.OutputStream;

/**
 * virtio-console (spec 5.3) with one port and no multiport: the guest's hvc0. Queue 0 (receiveq)
 * carries host input to the guest, queue 1 (transmitq) the guest's output to an {@link
 * OutputStream}.
 *
 * <p>Host input arrives through {@link #input} from any thread; while the guest has posted no
 * receive buffers (or before DRIVER_OK) it waits in a buffer of at most {@link #MAX_PENDING_INPUT}
 * bytes, and input beyond that is dropped and counted (an unbounded buffer would let a host-side
 * flood exhaust the heap, as CVE-2020-27173 did to Firecracker's serial). The output stream is
 * flushed, not closed, by {@link #close}: its owner (stdout, a log file) decides. It is written
 * under the TX lock on the notifier thread, so it must not block: the VM hands the device a {@link
 * dev.jvmm.core.device.ConsoleOutput}, which drops (and counts) what a stalled reader does not
 * take, and the guest's transmit buffers are always returned at once.
 *
 * <p>{@link #close} takes both locks, so once it returns no input delivery (the host's stdin
 * thread) or transmit is still reading or writing guest memory, and none starts after.
 */
public final class VirtioConsoleDevice implements VirtioDevice {
    public static final int RX = 0, TX = 1;
    public static final int QUEUE_SIZE = 64;
    public static final int MAX_PENDING_INPUT = 64 * 1024;
    static final int CONFIG_SIZE = 12; // cols, rows, max_nr_ports, emerg_wr: all 0 without features

    private final OutputStream out;
    private final Object txLock = new Object();
    private final Object rxLock = new Object();
    private final byte[] pending = new byte[MAX_PENDING_INPUT]; // ring buffer, guarded by rxLock
    private int pendingStart, pendingLen; // guarded by rxLock
    private long inputDropped; // guarded by rxLock
    private boolean held; // guarded by rxLock: paused, input waits in pending
    private volatile VirtioActivation activation;
    private volatile boolean closed;

    public VirtioConsoleDevice(OutputStream out) {
        this.out = out;
    }

    @Override
    public int deviceType() {
        return Virtio.ID_CONSOLE;
    }

    @Override
    public long deviceFeatures() {
        return 0;
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
        java.util.Arrays.fill(data, (byte) 0);
    }

    @Override
    public void activate(VirtioActivation a) {
        if (closed) return;
        activation = a;
        drainInput();
    }

    @Override
    public void queueNotify(int queue) {
        if (queue == TX) transmit();
        else drainInput();
    }

    /** Host → guest bytes (keyboard, a pipe). Never blocks on the guest. */
    public void input(byte[] data, int off, int len) {
        synchronized (rxLock) {
            int room = MAX_PENDING_INPUT - pendingLen;
            int n = Math.min(room, len);
            for (int i = 0; i < n; i++)
                pending[(pendingStart + pendingLen + i) % MAX_PENDING_INPUT] = data[off + i];
            pendingLen += n;
            inputDropped += len - n;
        }
        drainInput();
    }

    public void input(byte[] data) {
        input(data, 0, data.length);
    }

    /** Host input bytes dropped because the guest did not take them and the buffer was full. */
    public long inputDropped() {
        synchronized (rxLock) {
            return inputDropped;
        }
    }

    /** Host input bytes waiting for guest receive buffers. */
    public int pendingInput() {
        synchronized (rxLock) {
            return pendingLen;
        }
    }

    /** Runs on the host input thread too, so guest-memory faults stop here as a device error. */
    private void drainInput() {
        synchronized (rxLock) {
            VirtioActivation a = activation;
            if (a == null || closed || held || pendingLen == 0) return;
            try {
                Virtqueue q = a.queue(RX);
                DescriptorChain c;
                while (pendingLen > 0 && (c = q.pop()) != null) {
                    int n = (int) Math.min(c.writableLength(), pendingLen);
                    int first = Math.min(n, MAX_PENDING_INPUT - pendingStart);
                    c.write(0, pending, pendingStart, first);
                    if (n > first) c.write(first, pending, 0, n - first);
                    pendingStart = (pendingStart + n) % MAX_PENDING_INPUT;
                    pendingLen -= n;
                    q.addUsed(c, n);
                }
                q.notifyGuest();
            } catch (GuestMemoryException | IndexOutOfBoundsException e) {
                a.fail(VirtioError.GUEST_MEMORY, "console input: " + e.getMessage());
            }
        }
    }

    private void transmit() {
        synchronized (txLock) {
            VirtioActivation a = activation;
            if (a == null || closed) return;
            Virtqueue q = a.queue(TX);
            DescriptorChain c;
            boolean wrote = false;
            while ((c = q.pop()) != null) {
                byte[] b =
                        new byte
                                [(int)
                                        Math.min(
                                                c.readableLength(),
                                                1 << 20)]; // hvc writes are small; cap the copy
                c.read(0, b, 0, b.length);
                try {
                    out.write(b);
                    wrote = true;
                } catch (IOException e) {
                    a.error(VirtioError.BACKEND_IO, "console output: " + e);
                }
                q.addUsed(c, 0);
            }
            if (wrote) flush(a);
            q.notifyGuest();
        }
    }

    private void flush(VirtioActivation a) {
        try {
            out.flush();
        } catch (IOException e) {
            if (a != null) a.error(VirtioError.BACKEND_IO, "console output flush: " + e);
        }
    }

    /**
     * Host input stays in the device's buffer (the guest's receive buffers are not touched) until
     * {@link #resume}; output needs no hold, it runs only on notifications.
     */
    @Override
    public void quiesce() {
        synchronized (rxLock) {
            held = true;
        }
        synchronized (txLock) {
            flush(activation);
        }
    }

    @Override
    public void resume() {
        synchronized (rxLock) {
            held = false;
        }
        drainInput();
    }

    @Override
    public void reset() {
        activation = null;
    } // pending input stays for the next activation

    @Override
    public void close() {
        synchronized (txLock) {
            synchronized (rxLock) {
                if (closed) return;
                closed = true;
                activation = null;
            }
            flush(null);
        }
    }

    @Override
    public Record saveDeviceState() {
        synchronized (rxLock) {
            byte[] b = new byte[pendingLen];
            for (int i = 0; i < pendingLen; i++)
                b[i] = pending[(pendingStart + i) % MAX_PENDING_INPUT];
            return new VirtioConsoleState(b);
        }
    }

    @Override
    public Class<? extends Record> deviceStateType() {
        return VirtioConsoleState.class;
    }

    @Override
    public void restoreDeviceState(Record state, String part) {
        byte[] b = ((VirtioConsoleState) state).pendingInput();
        if (b == null) throw SnapshotException.invalid(part, "device: pendingInput missing");
        if (b.length > MAX_PENDING_INPUT) {
            throw SnapshotException.invalid(
                    part,
                    "device: pendingInput of "
                            + b.length
                            + " bytes exceeds the buffer's "
                            + MAX_PENDING_INPUT);
        }
        synchronized (rxLock) {
            System.arraycopy(b, 0, pending, 0, b.length);
            pendingStart = 0;
            pendingLen = b.length;
        }
    }

    @Override
    public String name() {
        return "virtio-console";
    }
}
