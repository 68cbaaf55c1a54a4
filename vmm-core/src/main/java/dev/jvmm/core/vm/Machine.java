package dev.jvmm.core.vm;

import dev.jvmm.core.JvmmException;
import dev.jvmm.core.arch.aarch64.CounterSnapshot;
import dev.jvmm.core.arch.aarch64.Its;
import dev.jvmm.core.arch.aarch64.VgicV3;
import dev.jvmm.core.device.ConsoleOutput;
import dev.jvmm.core.device.Pl031Rtc;
import dev.jvmm.core.device.Uart8250Device;
import dev.jvmm.core.firmware.FirmwareSetup;
import dev.jvmm.core.firmware.GuestFirmware;
import dev.jvmm.core.firmware.PvTimeRegion;
import dev.jvmm.core.firmware.PvTimeSnapshot;
import dev.jvmm.core.firmware.StolenTimeRecords;
import dev.jvmm.core.hypercall.HypercallServices;
import dev.jvmm.core.hypercall.sdei.SdeiSnapshot;
import dev.jvmm.core.hypercall.sdei.SignalOutcome;
import dev.jvmm.core.hypercall.shared.SharedRegionSet;
import dev.jvmm.core.memory.GuestRam;
import dev.jvmm.core.snapshot.SnapshotException;
import dev.jvmm.core.snapshot.Snapshottable;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.Vm;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.TimeUnit;

/**
 * A built VM ready to run: owns every fd and the guest RAM mapping, and tears them down in reverse
 * order of creation. {@link #run()} may boot several times when the guest resets with --on-reset
 * reboot.
 */
public final class Machine implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("jvmm.vm");

    /** How long a stop waits for the vCPU and device threads before it gives up on them. */
    private static final Duration JOIN = Duration.ofSeconds(5);

    /**
     * How long {@link #pause()} may take before it gives up and lets the VM run on: well inside
     * {@code jvmm ctl}'s 10 s wait for an answer.
     */
    static final Duration PAUSE_BOUND = Duration.ofSeconds(5);

    private final Kvm kvm;
    private final Vm vm;
    private final GuestRam ram;
    private final VgicV3 gic;
    private final List<Vcpu> vcpus;
    private final Uart8250Device uart;
    private final Pl031Rtc rtc;
    private final ConsoleOutput consoleOut;
    private final VirtioDevices virtio;
    private final ExitDispatcher dispatcher;
    private final VmConfig config;
    private final Rebooter rebooter;
    private final FirmwareSetup firmwareSetup;
    private final GuestFirmware firmware;
    private final PvTimeRegion pvTime;
    private final HypercallServices hypercalls;
    private final List<VcpuMailbox> mailboxes;
    private final VcpuGate gate;
    private final Lifecycle lifecycle;
    private final BuiltWith builtWith;
    private volatile StopControl current = new StopControl();
    private volatile VmResult externalStop;

    /** Set when {@link #run()} has returned: no vCPU will run again. */
    private volatile boolean ended;

    /** System.nanoTime() when the guest first started running; 0 before. */
    private volatile long startedNanos;

    /** Resets vCPUs and reloads the images for an in-place reboot. */
    @FunctionalInterface
    interface Rebooter {
        void reboot();
    }

    /**
     * What the machine was built from beyond its {@link VmConfig}, for its snapshot: the devices
     * and the VM's IPA size.
     */
    record BuiltWith(VirtioConfig devices, int ipaBits, List<Snapshottable<?>> archParts) {}

    Machine(
            Kvm kvm,
            Vm vm,
            GuestRam ram,
            VgicV3 gic,
            List<Vcpu> vcpus,
            Uart8250Device uart,
            Pl031Rtc rtc,
            ConsoleOutput consoleOut,
            VirtioDevices virtio,
            ExitDispatcher dispatcher,
            VmConfig config,
            Rebooter rebooter,
            FirmwareSetup firmwareSetup,
            GuestFirmware firmware,
            PvTimeRegion pvTime,
            HypercallServices hypercalls,
            List<VcpuMailbox> mailboxes) {
        this(
                kvm,
                vm,
                ram,
                gic,
                vcpus,
                uart,
                rtc,
                consoleOut,
                virtio,
                dispatcher,
                config,
                rebooter,
                firmwareSetup,
                firmware,
                pvTime,
                hypercalls,
                mailboxes,
                new BuiltWith(VirtioConfig.NONE, 40, List.of()));
    }

    Machine(
            Kvm kvm,
            Vm vm,
            GuestRam ram,
            VgicV3 gic,
            List<Vcpu> vcpus,
            Uart8250Device uart,
            Pl031Rtc rtc,
            ConsoleOutput consoleOut,
            VirtioDevices virtio,
            ExitDispatcher dispatcher,
            VmConfig config,
            Rebooter rebooter,
            FirmwareSetup firmwareSetup,
            GuestFirmware firmware,
            PvTimeRegion pvTime,
            HypercallServices hypercalls,
            List<VcpuMailbox> mailboxes,
            BuiltWith builtWith) {
        this.builtWith = builtWith;
        this.kvm = kvm;
        this.vm = vm;
        this.ram = ram;
        this.gic = gic;
        this.vcpus = vcpus;
        this.uart = uart;
        this.rtc = rtc;
        this.consoleOut = consoleOut;
        this.virtio = virtio;
        this.dispatcher = dispatcher;
        this.config = config;
        this.rebooter = rebooter;
        this.firmwareSetup = firmwareSetup;
        this.firmware = firmware;
        this.pvTime = pvTime;
        this.hypercalls = hypercalls;
        this.mailboxes = List.copyOf(mailboxes);
        this.gate = new VcpuGate(this.mailboxes, this::endingForGood);
        this.lifecycle =
                new Lifecycle(
                        Lifecycle.parts(gate, virtio, uart, rtc), PAUSE_BOUND, this::endingForGood);
    }

    public List<Vcpu> vcpus() {
        return vcpus;
    }

    /** The ITS, when --irqchip gicv3-its built one. */
    public Optional<Its> its() {
        return gic.its();
    }

    /** The VM fd, for in-package tests that act as a device would (KVM_SIGNAL_MSI). */
    Vm vm() {
        return vm;
    }

    public Uart8250Device uart() {
        return uart;
    }

    /** The PL031, or null in tests that build a machine without one. */
    public Pl031Rtc rtc() {
        return rtc;
    }

    public VirtioDevices virtio() {
        return virtio;
    }

    /**
     * Console bytes the guest wrote that never reached stdout or the --serial file: the reader did
     * not keep up (the buffer was full), the sink failed, or they were still buffered when the run
     * ended.
     */
    public long consoleDropped() {
        return consoleOut.dropped();
    }

    public VmConfig config() {
        return config;
    }

    /**
     * Whether {@link #run()} has started the vCPUs (the first boot; reboots in place do not reset
     * it).
     */
    public boolean hasStarted() {
        return startedNanos != 0;
    }

    /** Time since the guest first started running; zero before. */
    public Duration uptime() {
        long t = startedNanos;
        return t == 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - t);
    }

    /**
     * Whether the run is ending: stopped from outside, or the guest powered off, reset or crashed.
     */
    public boolean isStopping() {
        return externalStop != null || current.isStopped();
    }

    /**
     * The firmware the guest runs with: PSCI version, hypercall bitmaps, PV stolen time on or off.
     */
    public GuestFirmware firmware() {
        return firmware;
    }

    /**
     * Each vCPU's stolen time as KVM records it, readable from any thread while the guest runs;
     * empty when PV stolen time is off (--no-pvtime, --hypercalls -pv-time, or a host without it).
     */
    public Optional<StolenTimeRecords> stolenTime() {
        return pvTime == null ? Optional.empty() : Optional.of(pvTime.records());
    }

    /** The SMCCC router (with its per-function counters) and the services behind it. */
    public HypercallServices hypercalls() {
        return hypercalls;
    }

    /**
     * Raises SDEI event {@code event} from the host (the control API's sdei-signal): a private
     * event on vCPU {@code cpu}, a shared one wherever its routing sends it. Returns at once; the
     * target vCPU is kicked out of KVM_RUN (or WFI) and takes the event as soon as SDEI allows (PE
     * unmasked, event enabled, no running event of equal or higher priority).
     *
     * @throws IllegalStateException when the VM runs without --sdei
     * @throws IllegalArgumentException when there is no such event or vCPU
     */
    public SignalOutcome sdeiSignal(int event, int cpu) {
        return hypercalls
                .sdei()
                .orElseThrow(
                        () ->
                                new IllegalStateException(
                                        "SDEI is off in this VM (run it with --sdei)"))
                .inject(event, cpu);
    }

    /** The SDEI dispatcher's state; empty without --sdei. */
    public Optional<SdeiSnapshot> sdeiState() {
        return hypercalls.sdei().map(s -> s.snapshot());
    }

    /**
     * The granules the guest shared with MEM_SHARE (read it a page at a time); empty without
     * --shared-regions.
     */
    public Optional<SharedRegionSet> sharedRegions() {
        return hypercalls.sharedRegions().map(s -> s.regions());
    }

    /**
     * Forwarded SMCCC calls per function ID (unsigned), sorted; a snapshot (bounded: see {@link
     * #otherHypercalls}).
     */
    public SortedMap<Long, Long> hypercallCounts() {
        return hypercalls.router().callCounts();
    }

    /** Forwarded calls to denied or unclaimed IDs past the router's per-ID counters. */
    public long otherHypercalls() {
        return hypercalls.router().otherCalls();
    }

    /** The write guard for firmware state; sealed from the first run on. */
    FirmwareSetup firmwareSetup() {
        return firmwareSetup;
    }

    /**
     * Pauses the guest; false when it was already paused. What holds while paused (guest counter,
     * --timeout, stop, the control API): {@link Lifecycle}.
     *
     * @throws PauseException one line: the VM is stopping, or a part did not come to rest within
     *     {@link #PAUSE_BOUND} (the VM then keeps running)
     */
    public boolean pause() throws PauseException {
        return lifecycle.pause();
    }

    /**
     * Lets a paused guest go on exactly where it stopped (devices first, the vCPUs last); false
     * when it was not paused.
     */
    public boolean resume() {
        return lifecycle.resume();
    }

    public boolean isPaused() {
        return lifecycle.isPaused();
    }

    /** The parts in pause order (resume goes in reverse). */
    List<VmPart> parts() {
        return lifecycle.parts();
    }

    /**
     * The parts whose state a snapshot carries, in restore order (saving goes through the same
     * list; guest memory is written after all of them, restored before all of them): the vCPUs, the
     * counter, the vGIC and ITS (after the vCPUs exist; the ITS after the redistributors), then the
     * devices, whose restored line levels reach the restored vGIC, and the hypercall services.
     */
    List<Snapshottable<?>> snapshotParts() {
        List<Snapshottable<?>> parts = new ArrayList<>();
        for (Snapshottable<?> p : builtWith.archParts()) {
            // the guest's time is what the pause froze, not KVM's counter, which ran on since
            parts.add(p instanceof CounterSnapshot c ? c.frozenAt(guestCounter()::saved) : p);
        }
        // the stolen-time records live outside guest RAM, in their own memslot: a part of their own
        parts.add(stolenTime().map(PvTimeSnapshot::on).orElseGet(PvTimeSnapshot::off));
        parts.add(uart);
        parts.add(rtc);
        for (VirtioDevices.Slot s : virtio.slots()) {
            // virtio-mmio or virtio-pci: the transport with its device, as built
            if (!(s.transport() instanceof Snapshottable<?> t))
                throw new IllegalStateException(s.name() + " has no snapshot state");
            parts.add(t);
        }
        hypercalls.sdei().ifPresent(parts::add);
        hypercalls.sharedRegions().ifPresent(s -> parts.add(s.regions()));
        parts.add(hypercalls.router()); // a check: KVM cannot read the SMCCC filter back
        return parts;
    }

    private GuestCounter guestCounter() {
        for (VmPart p : lifecycle.parts()) if (p instanceof GuestCounter g) return g;
        throw new IllegalStateException("a machine's lifecycle always holds its guest counter");
    }

    BuiltWith builtWith() {
        return builtWith;
    }

    GuestRam ram() {
        return ram;
    }

    Lifecycle lifecycle() {
        return lifecycle;
    }

    /**
     * Writes a snapshot of the guest to {@code dir} (see {@link MachineSnapshot}): pauses it if it
     * is running, then resumes it — or, with {@code stop}, ends the run (exit 0) once the snapshot
     * is complete.
     *
     * @return the bytes written
     * @throws SnapshotException one line: a bad directory, an MTE guest, a failed write
     * @throws PauseException when the guest could not be paused (it keeps running)
     */
    public long snapshot(Path dir, boolean stop) throws PauseException {
        return new MachineSnapshot(this).take(dir, stop);
    }

    /**
     * Whether the run is ending for good: stopped from outside, ended, or stopped by the guest for
     * a reason other than a reset that reboots in place.
     */
    private boolean endingForGood() {
        if (ended || externalStop != null) return true;
        VmResult r = current.result();
        return r != null
                && !(r.reason() == VmResult.Reason.RESET
                        && config.onReset() == VmConfig.OnReset.REBOOT);
    }

    /** Ends the run from outside (signal, console quit); the first reason to stop wins. */
    public void stop(VmResult result) {
        if (externalStop == null) externalStop = result;
        current.stop(result);
    }

    /**
     * Runs the guest until it powers off, resets (unless rebooting in place), crashes or is
     * stopped.
     */
    public VmResult run() throws InterruptedException {
        firmwareSetup.seal(); // from here on KVM refuses changed firmware; jvmm must not even try
        Thread timer = startTimer(config.timeout());
        if (startedNanos == 0) startedNanos = Math.max(1, System.nanoTime());
        try {
            while (true) {
                StopControl control = current;
                StartupLog.mark("starting the vCPUs");
                List<Thread> threads = new ArrayList<>();
                for (Vcpu v : vcpus) {
                    Thread t =
                            VcpuThread.start(v, dispatcher, control, mailboxes.get(v.id()), gate);
                    ram.addUser(t);
                    threads.add(t);
                }
                // a parked vCPU waits on its mailbox, not in KVM_RUN: wake it too
                control.setKickers(
                        vcpus.stream()
                                .<Runnable>map(
                                        v ->
                                                () -> {
                                                    v.kick();
                                                    mailboxes.get(v.id()).wake();
                                                })
                                .toList());
                if (externalStop != null) control.stop(externalStop);
                VmResult r = control.await(Long.MAX_VALUE, TimeUnit.DAYS);
                List<String> late = joinAll(threads);
                Optional<VmResult> ending = ending(r, config.onReset(), externalStop);
                if (ending.isEmpty()) {
                    if (!late.isEmpty()) {
                        // a new boot would run a second thread on the same vCPU and load images
                        // under the old one
                        return VmResult.of(
                                VmResult.Reason.ERROR,
                                "guest reset, but "
                                        + String.join(", ", late)
                                        + " did not stop within "
                                        + JOIN.toSeconds()
                                        + " s to reboot in place");
                    }
                    LOG.log(Level.INFO, "guest reset: rebooting in place");
                    try {
                        rebooter.reboot();
                    } catch (JvmmException e) { // e.g. the kernel file was rewritten in place
                        return VmResult.of(
                                VmResult.Reason.ERROR, "cannot reboot: " + e.getMessage());
                    }
                    hypercalls.reset();
                    current = new StopControl();
                    continue;
                }
                return ending.get();
            }
        } finally {
            ended = true;
            if (timer != null) timer.interrupt();
            uart.flushOutput(); // a final partial line
            ExitReport.drainConsole(consoleOut);
            ExitReport.logHypercalls(hypercalls);
        }
    }

    /**
     * What a boot's stop means for the run: empty for a reset that reboots in place, else the run's
     * result. A stop from outside (a signal, ctl stop, --timeout) that came while the guest was
     * resetting wins over the reset: a reset that reboots in place is not an ending, so exit 32
     * would report something that did not happen.
     */
    static Optional<VmResult> ending(
            VmResult bootEnded, VmConfig.OnReset onReset, VmResult externalStop) {
        boolean rebootInPlace =
                bootEnded.reason() == VmResult.Reason.RESET && onReset == VmConfig.OnReset.REBOOT;
        if (!rebootInPlace) return Optional.of(bootEnded);
        return Optional.ofNullable(externalStop);
    }

    private Thread startTimer(Duration timeout) {
        if (timeout == null) return null;
        return Thread.ofPlatform()
                .name("timeout")
                .daemon(true)
                .start(
                        () -> {
                            try {
                                Thread.sleep(timeout);
                                stop(
                                        VmResult.of(
                                                VmResult.Reason.TIMEOUT,
                                                "timeout of "
                                                        + timeout.toMillis() / 1000.0
                                                        + " s expired"));
                            } catch (InterruptedException e) {
                                // the run ended first
                            }
                        });
    }

    /** Waits (bounded) for the vCPU threads; returns the names of those still running. */
    private static List<String> joinAll(List<Thread> threads) throws InterruptedException {
        long deadline = System.nanoTime() + JOIN.toNanos();
        List<String> late = new ArrayList<>();
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left > 0) t.join(Duration.ofNanos(left));
            if (t.isAlive()) {
                LOG.log(Level.WARNING, t.getName() + " did not stop in time");
                late.add(t.getName());
            }
        }
        return late;
    }

    /**
     * Releases everything in reverse order of creation. Devices go first: their threads stop, disks
     * are flushed (fdatasync) and closed. Guest RAM, the vCPUs' kvm_run pages and the PV-time page
     * are unmapped only when no vCPU or device thread is left that could touch them; if one did not
     * stop, they stay mapped until jvmm exits (a warning names the thread): a leak, where an unmap
     * would let that thread crash the JVM.
     */
    @Override
    public void close() {
        if (rtc != null) rtc.close(); // its alarm thread raises a line on the VM closed below
        virtio.close();
        // after the devices (the virtio console's last bytes are in); run() already gave the reader
        // its time
        consoleOut.close(hasStarted() ? Duration.ZERO : ConsoleOutput.DRAIN_WAIT);
        if (!ram.release(JOIN)) {
            LOG.log(Level.WARNING, "vCPU and KVM handles left open with guest RAM");
            return;
        }
        for (int i = vcpus.size() - 1; i >= 0; i--) vcpus.get(i).close();
        gic.close();
        vm.close();
        if (pvTime != null) pvTime.close();
        kvm.close();
    }
}
