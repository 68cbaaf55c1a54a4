package dev.jvmm.core.vm;

import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.aarch64.CpuFeatures;
import dev.jvmm.core.boot.BootImages;
import dev.jvmm.core.boot.KernelLoader;
import dev.jvmm.core.firmware.FirmwareConfig;
import dev.jvmm.core.hypercall.HypercallConfig;
import dev.jvmm.core.snapshot.Snapshot;
import dev.jvmm.kvm.testing.Arm64KvmCondition;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A guest image run in this JVM through VmBuilder and Machine, as {@code jvmm run} would, with the
 * console captured so a test can wait for what the guest prints and act on the Machine meanwhile
 * (the calls the control API makes). Closing stops the guest and releases every fd.
 */
final class GuestRun implements AutoCloseable {
    private static final Duration GUEST_LIMIT = Duration.ofMinutes(2);
    private final Console console = new Console();
    final Machine machine;
    private final Thread runner;
    private volatile VmResult result;
    private volatile Throwable failure;

    /** Captures console bytes and wakes waiters. */
    static final class Console extends OutputStream {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            bytes.write(b);
            notifyAll();
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
            notifyAll();
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.ISO_8859_1);
        }

        synchronized boolean await(String s, long deadlineNanos) throws InterruptedException {
            return await(s, 1, deadlineNanos);
        }

        /** Waits until {@code s} appears {@code count} times. */
        synchronized boolean await(String s, int count, long deadlineNanos)
                throws InterruptedException {
            while (occurrences(text(), s) < count) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) return false;
                wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    /** A bare-metal image from JVMM_IMAGES, no initrd, empty command line. */
    GuestRun(String image, int cpus, long memMiB, HypercallConfig hypercalls) throws Exception {
        this(
                Arm64KvmCondition.images().resolve(image),
                null,
                "",
                cpus,
                memMiB,
                hypercalls,
                GUEST_LIMIT);
    }

    /** A bare-metal image from JVMM_IMAGES with these vCPU features and reset policy. */
    GuestRun(String image, int cpus, long memMiB, CpuFeatures cpu, VmConfig.OnReset onReset)
            throws Exception {
        this(
                Arm64KvmCondition.images().resolve(image),
                null,
                "",
                cpus,
                memMiB,
                HypercallConfig.NONE,
                GUEST_LIMIT,
                cpu,
                onReset);
    }

    GuestRun(
            Path kernel,
            Path initrd,
            String cmdline,
            int cpus,
            long memMiB,
            HypercallConfig hypercalls,
            Duration timeout)
            throws Exception {
        this(
                kernel,
                initrd,
                cmdline,
                cpus,
                memMiB,
                hypercalls,
                timeout,
                CpuFeatures.DEFAULT,
                VmConfig.OnReset.EXIT);
    }

    GuestRun(
            Path kernel,
            Path initrd,
            String cmdline,
            int cpus,
            long memMiB,
            HypercallConfig hypercalls,
            Duration timeout,
            CpuFeatures cpu,
            VmConfig.OnReset onReset)
            throws Exception {
        this(
                kernel,
                initrd,
                cmdline,
                cpus,
                memMiB,
                hypercalls,
                timeout,
                cpu,
                onReset,
                FirmwareConfig.DEFAULT);
    }

    /** A bare-metal image from JVMM_IMAGES with these firmware choices (--hypercalls, ...). */
    GuestRun(String image, int cpus, long memMiB, HypercallConfig hypercalls, FirmwareConfig fw)
            throws Exception {
        this(
                Arm64KvmCondition.images().resolve(image),
                null,
                "",
                cpus,
                memMiB,
                hypercalls,
                GUEST_LIMIT,
                CpuFeatures.DEFAULT,
                VmConfig.OnReset.EXIT,
                fw);
    }

    GuestRun(
            Path kernel,
            Path initrd,
            String cmdline,
            int cpus,
            long memMiB,
            HypercallConfig hypercalls,
            Duration timeout,
            CpuFeatures cpu,
            VmConfig.OnReset onReset,
            FirmwareConfig firmware)
            throws Exception {
        Layout layout = new Layout(memMiB * Layout.MIB, cpus);
        BootImages images =
                KernelLoader.prepare(kernel, initrd, cmdline, layout.ramBase(), layout.ramBytes());
        VmConfig cfg =
                new VmConfig(
                        cmdline,
                        cpus,
                        memMiB * Layout.MIB,
                        onReset,
                        timeout,
                        console,
                        firmware,
                        false,
                        hypercalls,
                        cpu);
        machine = new VmBuilder(cfg, images).build();
        runner = start();
    }

    private GuestRun(Path snapshot, Duration timeout) {
        machine =
                RestoredMachine.build(
                        Snapshot.open(snapshot), VmConfig.OnReset.EXIT, timeout, console, false);
        runner = start();
    }

    /**
     * The guest of the snapshot in {@code dir}, rebuilt as {@code jvmm run --restore} does, and
     * running; its console shows only what the guest prints after the restore.
     */
    static GuestRun restored(Path dir, Duration timeout) {
        return new GuestRun(dir, timeout);
    }

    private Thread start() {
        return Thread.ofPlatform()
                .name("guest-run")
                .start(
                        () -> {
                            try {
                                result = machine.run();
                            } catch (Throwable t) {
                                failure = t;
                            }
                        });
    }

    String console() {
        return console.text();
    }

    /** How often {@code s} occurs in {@code text}, without overlaps. */
    static int occurrences(String text, String s) {
        int n = 0;
        for (int i = text.indexOf(s); i >= 0; i = text.indexOf(s, i + s.length())) n++;
        return n;
    }

    /** Waits until the console shows {@code s} {@code count} times; false after {@code limit}. */
    boolean await(String s, int count, Duration limit) throws InterruptedException {
        return console.await(s, count, System.nanoTime() + limit.toNanos());
    }

    /** Waits until the console shows {@code s}; false after {@code limit}. */
    boolean await(String s, Duration limit) throws InterruptedException {
        return console.await(s, System.nanoTime() + limit.toNanos());
    }

    /** Waits for the run to end (the guest powers off) and returns how it ended. */
    VmResult finish(Duration limit) throws InterruptedException {
        runner.join(limit);
        if (failure != null) throw new AssertionError("Machine.run failed", failure);
        if (runner.isAlive())
            throw new AssertionError("guest still running after " + limit + "\n" + console());
        return result;
    }

    String describe() {
        return "--- console ---\n" + console() + "\n--- result --- " + result;
    }

    @Override
    public void close() {
        machine.stop(VmResult.of(VmResult.Reason.SIGNAL, "test over"));
        try {
            runner.join(Duration.ofSeconds(20));
        } catch (InterruptedException e) {
            Thread.currentThread()
                    .interrupt(); // the caller sees the interrupt; the fds are released all the
            // same
        }
        machine.close();
    }
}
