package dev.jvmm.core.virtio;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A test device with {@code queues} queues: every chain it pops is recorded and returned with its
 * whole writable part filled with the bitwise NOT of the readable bytes' sum (so a test sees the
 * device touched it).
 */
class LoopbackDevice implements VirtioDevice {
    final int queues;
    final int maxSize;
    final List<DescriptorChain> chains = Collections.synchronizedList(new ArrayList<>());
    final byte[] config = {1, 2, 3, 4, 5, 6, 7, 8};
    volatile VirtioActivation activation;
    int activations, resets, closes;

    LoopbackDevice(int queues, int maxSize) {
        this.queues = queues;
        this.maxSize = maxSize;
    }

    @Override
    public int deviceType() {
        return 0x2a;
    }

    @Override
    public long deviceFeatures() {
        return Virtio.bit(0) | Virtio.bit(3);
    }

    @Override
    public int queueCount() {
        return queues;
    }

    @Override
    public int maxQueueSize() {
        return maxSize;
    }

    @Override
    public int configSize() {
        return config.length;
    }

    @Override
    public synchronized void readConfig(int offset, byte[] data) {
        System.arraycopy(config, offset, data, 0, data.length);
    }

    @Override
    public synchronized void writeConfig(int offset, byte[] data) {
        System.arraycopy(data, 0, config, offset, data.length);
    }

    @Override
    public void activate(VirtioActivation a) {
        activation = a;
        activations++;
    }

    @Override
    public void queueNotify(int queue) {
        VirtioActivation a = activation;
        if (a == null) return;
        Virtqueue q = a.queue(queue);
        DescriptorChain c;
        while ((c = q.pop()) != null) {
            chains.add(c);
            byte[] in = new byte[(int) c.readableLength()];
            c.read(0, in, 0, in.length);
            int sum = 0;
            for (byte b : in) sum += b;
            byte[] out = new byte[(int) c.writableLength()];
            java.util.Arrays.fill(out, (byte) ~sum);
            c.write(0, out, 0, out.length);
            q.addUsed(c, out.length);
        }
        q.notifyGuest();
    }

    @Override
    public void reset() {
        activation = null;
        resets++;
    }

    @Override
    public void close() {
        closes++;
    }
}
