package dev.jvmm.core.virtio.blk;

import dev.jvmm.core.virtio.DescriptorChain;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioActivation;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioError;
import dev.jvmm.core.virtio.Virtqueue;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * virtio-blk (spec 5.2) over a {@link BlockBackend}: IN, OUT, FLUSH (fdatasync) and GET_ID. DISCARD
 * and WRITE_ZEROES are not offered, so they answer UNSUPP like any other unknown type. A read-only
 * backend offers VIRTIO_BLK_F_RO and answers OUT with IOERR without touching the image.
 *
 * <p>A request is the readable stream {16-byte header, data for OUT} and the writable stream {data
 * for IN/GET_ID, status byte}; how the driver split them over descriptors does not matter. A chain
 * without a whole header or without a writable status byte cannot be answered: it goes back with
 * length 0 and is counted as {@link VirtioError#BAD_REQUEST}. Everything else gets a status byte.
 *
 * <p>Requests run on the notifying thread, one queue-worth at a time under the device lock; {@link
 * #close} and {@link #reset} wait for that batch, so no write is lost between acknowledgement and
 * close.
 */
public final class VirtioBlkDevice implements VirtioDevice {
    public static final int T_IN = 0,
            T_OUT = 1,
            T_FLUSH = 4,
            T_GET_ID = 8,
            T_DISCARD = 11,
            T_WRITE_ZEROES = 13;
    public static final int S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;
    public static final int F_SEG_MAX = 2, F_RO = 5, F_BLK_SIZE = 6, F_FLUSH = 9;
    public static final int SECTOR = 512;
    public static final int ID_BYTES = 20;
    public static final int QUEUE_SIZE = 256;
    static final int CONFIG_SIZE = 60; // through write_zeroes_may_unmap and its padding

    private static final System.Logger LOG = System.getLogger(VirtioBlkDevice.class.getName());

    private final BlockBackend backend;
    private final byte[] id = new byte[ID_BYTES];
    private final byte[] config = new byte[CONFIG_SIZE];
    private final long capacity;
    private final Object lock = new Object();
    private final LongAdder reads = new LongAdder(),
            writes = new LongAdder(),
            flushes = new LongAdder();
    private final byte[] header = new byte[16]; // guarded by lock, as the next two
    private final ByteBuffer headerView = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
    private final byte[] statusByte = new byte[1];
    private VirtioActivation activation; // guarded by lock
    private boolean closed; // guarded by lock

    /**
     * @param serial the GET_ID answer (ASCII, at most 20 bytes are used; shorter is NUL-padded)
     */
    public VirtioBlkDevice(BlockBackend backend, String serial) {
        this.backend = backend;
        byte[] s = serial.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(s, 0, id, 0, Math.min(s.length, ID_BYTES));
        this.capacity = backend.size() / SECTOR; // a trailing partial sector is not addressable
        ByteBuffer c = ByteBuffer.wrap(config).order(ByteOrder.LITTLE_ENDIAN);
        c.putLong(0, capacity);
        c.putInt(
                12, QUEUE_SIZE - 2); // seg_max: a chain also carries the header and the status byte
        c.putInt(20, SECTOR); // blk_size
    }

    public long capacitySectors() {
        return capacity;
    }

    public long reads() {
        return reads.sum();
    }

    public long writes() {
        return writes.sum();
    }

    public long flushes() {
        return flushes.sum();
    }

    @Override
    public int deviceType() {
        return Virtio.ID_BLOCK;
    }

    @Override
    public long deviceFeatures() {
        long f = Virtio.bit(F_SEG_MAX) | Virtio.bit(F_BLK_SIZE) | Virtio.bit(F_FLUSH);
        return backend.isReadOnly() ? f | Virtio.bit(F_RO) : f;
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
        return CONFIG_SIZE;
    }

    @Override
    public void readConfig(int offset, byte[] data) {
        System.arraycopy(config, offset, data, 0, data.length);
    }

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
            while ((c = q.pop()) != null) q.addUsed(c, handle(a, c));
            q.notifyGuest();
        }
    }

    /**
     * Serves one request; returns the used length (bytes written into the chain, status included).
     */
    private long handle(VirtioActivation a, DescriptorChain c) {
        if (c.readableLength() < 16) {
            a.error(
                    VirtioError.BAD_REQUEST,
                    "request header of " + c.readableLength() + " bytes (16 needed)");
            return 0;
        }
        if (c.writableLength() < 1) {
            a.error(VirtioError.BAD_REQUEST, "request without a writable status byte");
            return 0;
        }
        c.read(0, header, 0, 16);
        int type = headerView.getInt(0);
        long sector = headerView.getLong(8);
        long inData = c.writableLength() - 1;
        long outData = c.readableLength() - 16;
        long written = 0;
        int status;
        try {
            switch (type) {
                case T_IN -> {
                    status = check(a, "IN", sector, inData);
                    if (status == S_OK) {
                        transfer(c.writableSlices(0, inData), sector, false);
                        reads.increment();
                        written = inData;
                    }
                }
                case T_OUT -> {
                    if (backend.isReadOnly()) {
                        a.error(VirtioError.REQUEST_REJECTED, "OUT to a read-only disk");
                        status = S_IOERR;
                    } else {
                        status = check(a, "OUT", sector, outData);
                        if (status == S_OK) {
                            transfer(c.readableSlices(16, outData), sector, true);
                            writes.increment();
                        }
                    }
                }
                case T_FLUSH -> {
                    backend.flush();
                    flushes.increment();
                    status = S_OK;
                }
                case T_GET_ID -> {
                    written = c.write(0, id, 0, (int) Math.min(ID_BYTES, inData));
                    status = S_OK;
                }
                default -> status = S_UNSUPP;
            }
        } catch (IOException e) {
            a.error(
                    VirtioError.BACKEND_IO,
                    "type " + type + " sector " + Long.toUnsignedString(sector) + ": " + e);
            status = S_IOERR;
            written = 0;
        }
        statusByte[0] = (byte) status;
        c.write(c.writableLength() - 1, statusByte, 0, 1);
        return written + 1;
    }

    /**
     * S_OK when {@code len} bytes from {@code sector} are whole sectors inside the disk; IOERR
     * (counted) otherwise.
     */
    private int check(VirtioActivation a, String what, long sector, long len) {
        if (len % SECTOR != 0) {
            a.error(
                    VirtioError.REQUEST_REJECTED,
                    what + " data length " + len + " is not a multiple of 512");
            return S_IOERR;
        }
        long n = len / SECTOR;
        if (sector < 0
                || sector > capacity
                || n > capacity - sector) { // unsigned sector; no sector*512 overflow
            a.error(
                    VirtioError.REQUEST_REJECTED,
                    what
                            + " of "
                            + n
                            + " sectors at "
                            + Long.toUnsignedString(sector)
                            + " beyond capacity "
                            + capacity);
            return S_IOERR;
        }
        return S_OK;
    }

    /**
     * Moves a request's data between the image and its guest buffers in one backend call (one readv
     * or writev for a file), straight from and into guest memory.
     */
    private void transfer(List<MemorySegment> slices, long sector, boolean write)
            throws IOException {
        ByteBuffer[] bufs = new ByteBuffer[slices.size()];
        for (int i = 0; i < bufs.length; i++) bufs[i] = slices.get(i).asByteBuffer();
        if (write) backend.write(sector * SECTOR, bufs);
        else backend.read(sector * SECTOR, bufs);
    }

    @Override
    public void reset() {
        synchronized (lock) {
            activation = null;
        }
    }

    /**
     * Waits for the batch in progress (its requests are answered, their data written), then makes
     * every completed write durable. Requests arrive only through notifications, which the machine
     * holds while paused, so nothing new starts until resume.
     */
    @Override
    public void quiesce() throws IOException {
        synchronized (lock) {
            if (closed || backend.isReadOnly()) return;
            backend.flush();
        }
    }

    /** Waits for the batch in progress, then flushes and closes the backend. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) return;
            closed = true;
            activation = null;
            try {
                backend.close();
            } catch (IOException e) {
                LOG.log(Level.ERROR, "virtio-blk: closing " + backend + " failed: " + e);
            }
        }
    }

    @Override
    public String name() {
        return "virtio-blk";
    }
}
