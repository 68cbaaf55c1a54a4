package dev.jvmm.cli;

import dev.jvmm.core.api.ApiException;
import dev.jvmm.core.api.ApiServer;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.arch.aarch64.CpuFeatures;
import dev.jvmm.core.boot.BootImages;
import dev.jvmm.core.boot.KernelLoader;
import dev.jvmm.core.files.FileRoles;
import dev.jvmm.core.files.HostFiles;
import dev.jvmm.core.firmware.FirmwareConfig;
import dev.jvmm.core.firmware.HypercallSelection;
import dev.jvmm.core.hypercall.FunctionRange;
import dev.jvmm.core.hypercall.HypercallConfig;
import dev.jvmm.core.hypercall.ImplCpu;
import dev.jvmm.core.hypercall.sdei.SdeiEventSpec;
import dev.jvmm.core.snapshot.HostProbeAhead;
import dev.jvmm.core.snapshot.Snapshot;
import dev.jvmm.core.snapshot.SnapshotAhead;
import dev.jvmm.core.vm.DiskConfig;
import dev.jvmm.core.vm.Machine;
import dev.jvmm.core.vm.MachineControl;
import dev.jvmm.core.vm.NetConfig;
import dev.jvmm.core.vm.RestoredMachine;
import dev.jvmm.core.vm.StartupLog;
import dev.jvmm.core.vm.VirtioConfig;
import dev.jvmm.core.vm.VirtioTransportKind;
import dev.jvmm.core.vm.VmBuilder;
import dev.jvmm.core.vm.VmConfig;
import dev.jvmm.core.vm.VmResult;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jvmm run}: boot an arm64 Linux kernel (and initrd) with a serial console. The fields are
 * its options, which {@link RunModel} names, documents and binds.
 */
final class RunCommand implements Callable<Integer> {
    Path kernel;

    Path initrd;

    String params = "";

    int cpus = 1;

    long memoryBytes = 256L << 20;

    SerialTarget serial = new SerialTarget(SerialTarget.Kind.STDIO, null);

    List<DiskConfig> disks = new ArrayList<>();

    List<NetConfig> nets = new ArrayList<>();

    boolean rng;

    ConsoleDevice console = ConsoleDevice.SERIAL;

    VirtioTransportKind virtioTransport = VirtioTransportKind.PCI;

    /** Which device carries the console. */
    enum ConsoleDevice {
        SERIAL,
        VIRTIO
    }

    Path dumpDtb;

    Duration timeout;

    VmConfig.OnReset onReset = VmConfig.OnReset.EXIT;

    boolean noPvTime;

    HypercallSelection
            hypercalls; // null: ALL. Not initialised here: its class reaches native code, which a

    // JVM denying native access must refuse in call(), where it is one line

    HypercallSelection hypercallSelection() {
        return hypercalls != null ? hypercalls : HypercallSelection.ALL;
    }

    CpuOptions cpu = new CpuOptions();

    PsciVersion psci;

    boolean memLock;

    boolean sdei;

    List<SdeiEventSpec> sdeiEvents = new ArrayList<>();

    List<FunctionRange> smcccDeny = new ArrayList<>();

    boolean sharedRegions;

    List<ImplCpu> implCpus = new ArrayList<>();

    Path apiSocket;

    String logLevel = "warn";

    KvmtoolOptions kvmtool = new KvmtoolOptions();

    Path restore;

    CommandSpec spec; // set by RunModel

    @Override
    @SuppressWarnings(
            "try") // api is closed early on purpose (see below); the try still closes it on every
    // other path
    public Integer call() throws Exception {
        Logging.configure(logLevel);
        StartupLog.mark("command line parsed");
        if (restore != null) return restoreRun();
        if (kernel == null) throw new UsageException("Missing required option: '--kernel=FILE'");
        Layout layout = layout();
        CpuFeatures cpuFeatures = cpu.features();
        fileRoles();
        outputProblem(
                "--serial file=", serial.kind() == SerialTarget.Kind.FILE ? serial.file() : null);
        outputProblem("--dump-dtb ", dumpDtb);
        BootImages images =
                KernelLoader.prepare(
                        kernel, initrd, commandLine(), layout.ramBase(), layout.ramBytes());
        StartupLog.mark("kernel and initrd read");
        NativeAccess.require(); // every input is checked: from here on jvmm calls the kernel
        FirmwareConfig firmware = firmware();
        HypercallConfig hypercallConfig = hypercalls();
        VirtioConfig devices = devices();
        // the API socket exists before any KVM fd (a bad path is a usage error) and is gone on
        // every exit path
        try (ApiServer api = openApi();
                LateOutput console = new LateOutput()) {
            VmConfig config =
                    new VmConfig(
                            commandLine(),
                            cpus,
                            memoryBytes,
                            onReset,
                            timeout,
                            console,
                            firmware,
                            memLock,
                            hypercallConfig,
                            cpuFeatures);
            VmBuilder builder = new VmBuilder(config, images, devices);
            try (Machine machine = builder.build()) {
                // every input is validated and every disk locked: only now are output files created
                // or truncated
                if (dumpDtb != null) {
                    writeDtb(builder.deviceTree());
                    return ExitCodes.GUEST_POWEROFF;
                }
                return runMachine(machine, api, console, kernel.toString());
            }
        }
    }

    /**
     * The directory of a {@code run --restore DIR} (or {@code --restore=DIR}) in {@code args}, the
     * whole command line as given, or null: {@link Main} then starts reading that snapshot ({@link
     * SnapshotAhead}) and the host probe ({@link HostProbeAhead#startEarly}) before picocli parses
     * anything, so that their cold code runs beside picocli's instead of after it. A guess: the
     * command takes the early read only for the directory picocli parsed.
     */
    static String restoreDir(String[] args) {
        if (args.length == 0 || !"run".equals(args[0])) return null;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--restore")) return i + 1 < args.length ? args[i + 1] : null;
            if (args[i].startsWith("--restore=")) return args[i].substring("--restore=".length());
        }
        return null;
    }

    /**
     * {@code --restore DIR}: the snapshot is read and checked before anything else, the host is
     * checked against it before the VM is built.
     */
    @SuppressWarnings("try") // api is closed early on purpose, as in call()
    private int restoreRun() throws Exception {
        RestoreOptions.check(spec.commandLine().getParseResult());
        // its parameter consumer sets the field without picocli recording a match
        if (hypercalls != null) throw RestoreOptions.refused("--hypercalls");
        FileRoles roles = new FileRoles();
        if (serial.kind() == SerialTarget.Kind.FILE)
            roles.add("--serial file=" + serial.file(), serial.file());
        roles.add("--api-socket " + apiSocket, apiSocket);
        outputProblem(
                "--serial file=", serial.kind() == SerialTarget.Kind.FILE ? serial.file() : null);
        // the host probe runs while the snapshot is read (its result waits for the host check)
        HostProbeAhead probe = HostProbeAhead.start();
        long t0 = System.nanoTime();
        Snapshot snapshot = SnapshotAhead.open(restore); // read since main() when it could be
        logSnapshotRead(t0);
        NativeAccess.require();
        try (ApiServer api = openApi();
                LateOutput console = new LateOutput();
                Machine machine =
                        RestoredMachine.build(
                                snapshot, onReset, timeout, console, memLock, probe)) {
            return runMachine(machine, api, console, "restored from " + restore);
        }
    }

    /**
     * How long reading and checking the snapshot took (bench/restore-bench reads this line; the
     * rest of a restore's phases are in {@link RestoredMachine}'s).
     */
    private static void logSnapshotRead(long readStartNanos) {
        System.getLogger("jvmm.cli")
                .log(
                        System.Logger.Level.INFO,
                        "restore: snapshot read and checked in "
                                + (System.nanoTime() - readStartNanos) / 1_000_000
                                + " ms");
    }

    /** Opens the console output, serves the control API and runs the guest to its end. */
    private int runMachine(Machine machine, ApiServer api, LateOutput console, String label)
            throws Exception {
        console.open(openConsole());
        try {
            if (api != null) api.start(new MachineControl(machine, label));
            return new RunSession(machine, serial.kind() == SerialTarget.Kind.STDIO).run();
        } finally {
            if (api != null) api.close(); // no request may reach the Machine while it is torn down
        }
    }

    /**
     * One path, one role (the rule is core's): checked before any file is read, created or locked.
     */
    private void fileRoles() {
        FileRoles roles =
                new FileRoles().add("--kernel " + kernel, kernel).add("--initrd " + initrd, initrd);
        for (DiskConfig d : disks) roles.add("--disk " + d.path(), d.path());
        if (serial.kind() == SerialTarget.Kind.FILE)
            roles.add("--serial file=" + serial.file(), serial.file());
        roles.add("--dump-dtb " + dumpDtb, dumpDtb);
        roles.add("--api-socket " + apiSocket, apiSocket);
    }

    /**
     * An output that could not be created or written is a usage error now, not after the VM is
     * built.
     */
    private static void outputProblem(String option, Path file) {
        if (file == null) return;
        HostFiles.outputProblem(file)
                .ifPresent(
                        why -> {
                            throw new UsageException(option + file + ": " + why);
                        });
    }

    private void writeDtb(byte[] dtb) {
        try {
            Files.write(dumpDtb, dtb);
        } catch (IOException e) {
            throw new UsageException(
                    "--dump-dtb " + dumpDtb + ": cannot write: " + HostFiles.reason(e));
        }
    }

    private ApiServer openApi() {
        if (apiSocket == null || dumpDtb != null) return null;
        try {
            return ApiServer.open(apiSocket);
        } catch (ApiException e) {
            throw new UsageException("--api-socket " + e.getMessage());
        }
    }

    private Layout layout() {
        return new Layout(memoryBytes, cpus);
    }

    private VirtioConfig devices() {
        return new VirtioConfig(disks, nets, rng, console == ConsoleDevice.VIRTIO, virtioTransport);
    }

    private FirmwareConfig firmware() {
        return new FirmwareConfig(hypercallSelection(), !noPvTime, psci);
    }

    HypercallConfig hypercalls() {
        return new HypercallConfig(sdei, sdeiEvents, smcccDeny, sharedRegions, implCpus);
    }

    String commandLine() {
        if (kvmtool.nodefaults || params.contains("console=")) return params;
        String named = console == ConsoleDevice.VIRTIO ? "console=hvc0" : "console=ttyS0";
        return params.isBlank() ? named : named + " " + params;
    }

    private OutputStream openConsole() {
        return switch (serial.kind()) {
            case STDIO -> new NonClosing(new FileOutputStream(java.io.FileDescriptor.out));
            case FILE -> {
                try {
                    yield Files.newOutputStream(serial.file());
                } catch (IOException e) {
                    throw new UsageException(
                            "--serial file="
                                    + serial.file()
                                    + ": cannot write: "
                                    + HostFiles.reason(e));
                }
            }
            case NONE -> OutputStream.nullOutputStream();
        };
    }

    /** Exit code for a finished run. */
    static int exitCode(VmResult r) {
        return switch (r.reason()) {
            case POWEROFF -> ExitCodes.GUEST_POWEROFF;
            case RESET -> ExitCodes.GUEST_RESET;
            case PANIC -> ExitCodes.GUEST_PANIC;
            case CRASH -> ExitCodes.VM_CRASH;
            case TIMEOUT -> ExitCodes.TIMEOUT;
            case SIGNAL -> 128 + r.signal();
            case ERROR -> ExitCodes.HOST_ERROR;
            case STOPPED_BY_API -> ExitCodes.GUEST_POWEROFF;
        };
    }

    /**
     * stdout must outlive the run (other output may follow), so closing the console leaves fd 1
     * open.
     */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }

    static final class MemoryConverter implements picocli.CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            if (value.contains("@")) { // kvmtool's SIZE@ADDRESS
                throw new picocli.CommandLine.TypeConversionException(
                        "'"
                                + value
                                + "': jvmm's RAM is always at 0x80000000 (kvmtool's default); give the"
                                + " size only");
            }
            return Converters.convert(value, Sizes::memory);
        }
    }

    static final class DurationConverter implements picocli.CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return Converters.convert(value, Sizes::duration);
        }
    }

    /**
     * Takes the next argument as the list even when it looks like an option: {@code --hypercalls
     * -ptp} would otherwise be read as {@code -p tp} (the short --params option).
     */
    static final class HypercallsConsumer implements picocli.CommandLine.IParameterConsumer {
        @Override
        public void consumeParameters(
                java.util.Stack<String> args,
                picocli.CommandLine.Model.ArgSpec arg,
                picocli.CommandLine.Model.CommandSpec spec) {
            if (args.isEmpty()) {
                throw new picocli.CommandLine.ParameterException(
                        spec.commandLine(), "Missing value for --hypercalls");
            }
            String value = args.pop();
            try {
                arg.setValue(HypercallSelection.parse(value));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(
                        spec.commandLine(),
                        "Invalid value for option '--hypercalls': " + e.getMessage());
            }
        }
    }

    static final class PsciConverter implements picocli.CommandLine.ITypeConverter<PsciVersion> {
        @Override
        public PsciVersion convert(String value) {
            return Converters.convert(value, PsciVersion::parse);
        }
    }

    static final class SdeiEventConverter
            implements picocli.CommandLine.ITypeConverter<SdeiEventSpec> {
        @Override
        public SdeiEventSpec convert(String value) {
            return Converters.convert(value, SdeiEventSpec::parse);
        }
    }

    /** {@code deny=RANGE}; the key leaves room for other settings without a new option. */
    static final class SmcccConverter implements picocli.CommandLine.ITypeConverter<FunctionRange> {
        @Override
        public FunctionRange convert(String value) {
            int eq = value.indexOf('=');
            String key = eq < 0 ? value : value.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            if (eq < 0 || !key.equals("deny")) {
                throw new picocli.CommandLine.TypeConversionException(
                        "'" + value + "' is not deny=RANGE");
            }
            // the architecture-call rule is HypercallConfig's (one place); this only parses
            return Converters.convert(value.substring(eq + 1), FunctionRange::parse);
        }
    }

    static final class ImplCpuConverter implements picocli.CommandLine.ITypeConverter<ImplCpu> {
        @Override
        public ImplCpu convert(String value) {
            return Converters.convert(value, ImplCpu::parse);
        }
    }

    static final class SerialConverter implements picocli.CommandLine.ITypeConverter<SerialTarget> {
        @Override
        public SerialTarget convert(String value) {
            return Converters.convert(value, SerialTarget::parse);
        }
    }
}
