package dev.jvmm.core.device;

import dev.jvmm.kvm.Errno;
import dev.jvmm.kvm.sys.EventFd;
import dev.jvmm.kvm.sys.Poll;
import dev.jvmm.kvm.sys.PollSet;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * One device's notification thread: waits on the device's per-queue eventfds (which KVM signals on
 * a guest write to QueueNotify, without a vCPU exit) and hands each signalled queue index to the
 * device, so device work runs here and never on a vCPU thread. A platform thread, since it sits in
 * poll(2).
 *
 * <p>An exception from the device is logged and the thread goes on: one bad request must not
 * silence the device for good. {@link #close} wakes the thread through its own eventfd and waits
 * for it.
 *
 * <p>{@link #pause} holds the thread between two notifications: it returns once the notification
 * being handled (a virtio-blk batch, say) has finished. Notifications that arrive while paused stay
 * counted in their eventfds and are handled after {@link #resume}, so none is lost.
 */
public final class QueueNotifier implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(QueueNotifier.class.getName());
    private static final Duration JOIN = Duration.ofSeconds(5);

    private final String name;
    private final List<EventFd> queues;
    private final IntConsumer onNotify;
    private final EventFd stop;
    private final Thread thread;
    private volatile boolean stopping;
    private volatile boolean paused;
    private boolean holding; // guarded by this: the thread is parked by a pause

    /**
     * @param queues eventfd of queue i at index i; owned by the caller (KVM holds them too)
     * @param onNotify called on this notifier's thread with the queue index
     */
    public QueueNotifier(String name, List<EventFd> queues, IntConsumer onNotify) {
        this.name = name;
        this.queues = List.copyOf(queues);
        this.onNotify = onNotify;
        this.stop = EventFd.create(name + " stop");
        this.thread = Thread.ofPlatform().daemon().name("jvmm-" + name).unstarted(this::run);
    }

    /**
     * The notification thread: device work on guest memory runs on it until {@link #close} has
     * stopped it.
     */
    public Thread thread() {
        return thread;
    }

    public QueueNotifier start() {
        thread.start();
        return this;
    }

    private void run() {
        int[] fds = new int[queues.size() + 1];
        fds[0] = stop.fd();
        for (int i = 0; i < queues.size(); i++) fds[i + 1] = queues.get(i).fd();
        PollSet set = new PollSet(Poll.POLLIN, fds);
        while (!stopping) {
            int n = set.await(-1);
            if (n == -Errno.EINTR) continue;
            if (n < 0) {
                LOG.log(
                        Level.ERROR,
                        name
                                + ": poll failed: "
                                + Errno.name(-n)
                                + "; the device gets no more notifications");
                return;
            }
            if (set.revents(0) != 0) {
                stop.drain(); // a stop or a pause
                if (stopping) return;
                hold();
                continue;
            }
            for (int q = 0; q < queues.size(); q++) {
                if (set.revents(q + 1) == 0) continue;
                queues.get(q).drain();
                try {
                    onNotify.accept(q);
                } catch (RuntimeException e) {
                    LOG.log(Level.ERROR, name + ": queue " + q + " notification failed", e);
                }
            }
        }
    }

    /** On the notifier thread: parks while paused. */
    private synchronized void hold() {
        if (!paused) return;
        holding = true;
        notifyAll();
        try {
            while (paused && !stopping) wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // nobody interrupts it; end the wait and go on
        } finally {
            holding = false;
        }
    }

    /**
     * Holds the thread once the notification in progress has finished; false if that did not happen
     * by {@code deadlineNanos} (the hold is then withdrawn). A thread that is not running (not
     * started, stopped) holds trivially.
     */
    public boolean pause(long deadlineNanos) throws InterruptedException {
        synchronized (this) {
            if (stopping) return true;
            paused = true;
        }
        stop.signal();
        synchronized (this) {
            while (!holding && thread.isAlive() && !stopping) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    paused = false;
                    return false;
                }
                wait(Math.max(1, Math.min(left / 1_000_000, 20)));
            }
            return true;
        }
    }

    /** Lets the thread handle notifications again, those that arrived while paused first. */
    public synchronized void resume() {
        paused = false;
        notifyAll();
    }

    /**
     * Stops the thread and waits for a notification in progress to finish (bounded). Idempotent.
     */
    @Override
    public void close() {
        if (!stopping) {
            stopping = true;
            synchronized (this) {
                notifyAll(); // a paused thread
            }
            if (thread.isAlive()) stop.signal();
            try {
                if (thread.isAlive() && !thread.join(JOIN))
                    LOG.log(Level.WARNING, thread.getName() + " did not stop in time");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!thread.isAlive()) stop.close();
    }
}
