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
import dev.jvmm.core.vm.DiskConfig;
import dev.jvmm.core.vm.Machine;
import dev.jvmm.core.vm.MachineControl;
import dev.jvmm.core.vm.NetConfig;
import dev.jvmm.core.vm.RestoredMachine;
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
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jvmm run}: boot an arm64 Linux kernel (and initrd) with a serial console. */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Boot an arm64 Linux Image (or Image.gz, or a raw binary) under KVM with a 16550A serial console (ttyS0) and, "
                    + "when asked, virtio-mmio disks, NICs, an entropy source and a virtio console (hvc0).",
            "stdout carries only the guest console; jvmm's own messages go to stderr.",
            "On a terminal, stdin is raw while the guest runs: Ctrl-A x quits (exit 130), Ctrl-A Ctrl-A sends Ctrl-A."
        })
final class RunCommand implements Callable<Integer> {
    @Option(
            names = {"-k", "--kernel"},
            paramLabel = "FILE",
            description =
                    "Required unless --restore. arm64 kernel Image, uncompressed or gzip-compressed, or a raw binary (a file without"
                            + " the Image magic: loaded at RAM + 0x80000 and entered at its first byte, as"
                            + " kvmtool does); a regular file, opened once at start and held open (an"
                            + " in-place reboot reads that file again, and stops if it was rewritten in place).")
    Path kernel;

    @Option(
            names = {"-i", "--initrd"},
            paramLabel = "FILE",
            description =
                    "Initial ramdisk (initramfs) to load; a regular file, held open like the kernel.")
    Path initrd;

    @Option(
            names = {"-p", "--params", "--cmdline"},
            paramLabel = "ARGS",
            description =
                    "Kernel command line. 'console=ttyS0' (hvc0 with --console virtio) is added when it names no console,"
                            + " unless --nodefaults. At most 2047 bytes.")
    String params = "";

    @Option(
            names = {"-c", "--cpus"},
            paramLabel = "N",
            description =
                    "Number of vCPUs (default: ${DEFAULT-VALUE}); more than the host's online CPUs is a"
                            + " warning, more than KVM allows an error.")
    int cpus = 1;

    @Option(
            names = {"-m", "--memory", "--mem"},
            paramLabel = "SIZE",
            converter = MemoryConverter.class,
            description =
                    "Guest RAM: MiB (as kvmtool's -m/--mem), or with a K/M/G/T suffix; 16M at least"
                            + " (default: 256M).")
    long memoryBytes = 256L << 20;

    @Option(
            names = "--serial",
            paramLabel = "stdio|file=PATH|none",
            converter = SerialConverter.class,
            description = {
                "Where the serial console goes (default: stdio). file=PATH is created or truncated only once"
                        + " every input is checked and every disk locked.",
                "The guest never waits for the reader: output beyond a 1 MiB buffer it has not taken is dropped,"
                        + " and the count logged at exit.",
                "Kernel, initrd, disks, serial file, --dump-dtb and --api-socket must be different files."
            })
    SerialTarget serial = new SerialTarget(SerialTarget.Kind.STDIO, null);

    @Option(
            names = {"-d", "--disk"},
            paramLabel = DeviceOptions.DISK_SYNTAX,
            converter = DeviceOptions.DiskConverter.class,
            description = {
                "A virtio-blk disk backed by FILE (repeatable: vda, vdb, ... in order). ro=on attaches it "
                        + "read-only (required for a file jvmm may not write). ',,' in FILE is a comma."
            })
    List<DiskConfig> disks = new ArrayList<>();

    @Option(
            names = "--net",
            paramLabel = DeviceOptions.NET_SYNTAX,
            converter = DeviceOptions.NetConverter.class,
            description = {
                "A virtio-net NIC on host tap interface NAME (repeatable), created if missing and jvmm may. "
                        + "The default MAC is derived from NAME: locally administered, the same on every run."
            })
    List<NetConfig> nets = new ArrayList<>();

    @Option(
            names = "--rng",
            description =
                    "A virtio-rng entropy device fed from the host's /dev/urandom (guest /dev/hwrng).")
    boolean rng;

    @Option(
            names = "--console",
            paramLabel = "serial|virtio",
            description = {
                "The console device: the 16550A, ttyS0 (default), or virtio-console, hvc0 ('console=hvc0' is "
                        + "added when the command line names no console; the UART stays but is not connected). "
                        + "--serial says where either one goes."
            })
    ConsoleDevice console = ConsoleDevice.SERIAL;

    @Option(
            names = "--virtio-transport",
            paramLabel = "pci|mmio",
            description = {
                "How virtio devices reach the guest: pci (default, as kvmtool's), modern virtio-pci behind an"
                        + " ECAM host bridge, which kernels with VIRTIO_PCI built in (Debian's) see without any"
                        + " module; or mmio, virtio-mmio with one window and SPI per device."
            })
    VirtioTransportKind virtioTransport = VirtioTransportKind.PCI;

    /** Which device carries the console. */
    enum ConsoleDevice {
        SERIAL,
        VIRTIO
    }

    @Option(
            names = "--dump-dtb",
            paramLabel = "FILE",
            description =
                    "Write the generated device tree blob to FILE and exit 0 without running the guest.")
    Path dumpDtb;

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description =
                    "Stop the guest after DURATION (30, 30s, 500ms, 2m; 1ms to 8760h) and exit 124.")
    Duration timeout;

    @Option(
            names = "--on-reset",
            paramLabel = "exit|reboot",
            description = "On a guest reset: exit with code 32 (default) or reboot in place.")
    VmConfig.OnReset onReset = VmConfig.OnReset.EXIT;

    @Option(
            names = "--no-pvtime",
            description = "No PV stolen time for the guest (on by default where the host has it).")
    boolean noPvTime;

    @Option(
            names = "--hypercalls",
            paramLabel = "LIST",
            parameterConsumer = HypercallsConsumer.class,
            description = {
                "Hypercall services the guest may see: all (default: what the host's KVM offers), none,"
                        + " +NAME / -NAME to add or remove, comma-separated; a list starting with a bare NAME offers"
                        + " exactly the names listed. Services: trng, pv-time, kvm-features, ptp,"
                        + " discover-impl-ver, discover-impl-cpus (see jvmm caps)."
            })
    HypercallSelection
            hypercalls; // null: ALL. Not initialised here: its class reaches native code, which a

    // JVM denying native access must refuse in call(), where it is one line

    HypercallSelection hypercallSelection() {
        return hypercalls != null ? hypercalls : HypercallSelection.ALL;
    }

    @Mixin CpuOptions cpu = new CpuOptions();

    @Option(
            names = "--psci",
            paramLabel = "VERSION",
            converter = PsciConverter.class,
            description =
                    "PSCI version the guest sees: 0.1, 0.2, 1.0, 1.1, 1.2 or 1.3, up to what the host"
                            + " implements (default: the highest).")
    PsciVersion psci;

    @Option(
            names = "--mem-lock",
            description = {
                "Pre-fault and pin guest RAM and the PV-time records before the"
                        + " guest starts (MADV_POPULATE_WRITE + mlock), so it never waits on a host page fault.",
                "Needs RLIMIT_MEMLOCK (ulimit -l) of at least the RAM size, or CAP_IPC_LOCK."
            })
    boolean memLock;

    @Option(
            names = "--sdei",
            description = {
                "Serve SDEI 1.1 (software delegated exceptions) to the guest from jvmm:"
                        + " a /firmware/sdei node (method hvc) in the device tree and the SDEI calls forwarded to userspace."
                        + " Event 0 (EVENT_SIGNAL) is always there. Needs a KVM with the SMCCC filter (Linux 6.4+)."
            })
    boolean sdei;

    @Option(
            names = "--sdei-event",
            paramLabel = "NUM,shared|private,normal|critical",
            converter = SdeiEventConverter.class,
            description =
                    "Also offer SDEI event NUM (1..2147483647) of that type and priority, e.g. 100,private,normal;"
                            + " repeatable; needs --sdei.")
    List<SdeiEventSpec> sdeiEvents = new ArrayList<>();

    @Option(
            names = "--smccc",
            paramLabel = "deny=RANGE",
            converter = SmcccConverter.class,
            description = {
                "Hide SMCCC function IDs from the guest: calls in RANGE are answered NOT_SUPPORTED"
                        + " (and counted). RANGE is FIRST-LAST, BASE+COUNT or one ID, hex or decimal, e.g."
                        + " deny=0xC4000020-0xC400003F; repeatable. The Arm architecture calls (0x80000000-0x8000FFFF,"
                        + " 0xC0000000-0xC000FFFF) cannot be denied."
            })
    List<FunctionRange> smcccDeny = new ArrayList<>();

    @Option(
            names = "--shared-regions",
            description = {
                "Serve the pKVM memory-sharing calls (HYP_MEMINFO, MEM_SHARE,"
                        + " MEM_UNSHARE) and list what the guest shares. Off by default: a guest with the pKVM guest driver"
                        + " that finds them believes it is protected and bounces all DMA through shared buffers."
                        + " The list costs one bit per 4 KiB of RAM at most."
            })
    boolean sharedRegions;

    @Option(
            names = "--impl-cpu",
            paramLabel = "midr=V[,revidr=V][,aidr=V]",
            converter = ImplCpuConverter.class,
            description = {
                "A CPU implementation the guest may run on (MIDR_EL1, REVIDR_EL1, AIDR_EL1; the last two"
                        + " default to 0), repeatable, in index order: jvmm answers DISCOVER_IMPL_VER and"
                        + " DISCOVER_IMPL_CPUS with the list, so a Linux 6.15+ guest enables the errata"
                        + " workarounds of every CPU it may be moved to. Where KVM has VENDOR_HYP_BMAP_2 (Linux"
                        + " 6.15+) the guest finds the calls through KVM_FEATURES (--hypercalls"
                        + " discover-impl-ver,discover-impl-cpus, on by default with this option). Needs the"
                        + " SMCCC filter (Linux 6.4+)."
            })
    List<ImplCpu> implCpus = new ArrayList<>();

    @Option(
            names = "--api-socket",
            paramLabel = "PATH",
            description = {
                "Serve the control API (jvmm ctl) on a Unix socket at PATH, mode 0600 (only you can connect).",
                "A leftover socket nobody listens on is replaced; the socket is removed when jvmm exits.",
                "A client jvmm waits on for 10 s (no complete request, or an answer it does not read) is closed; "
                        + "of at most 32 connections, a new one closes the longest-idle, so jvmm ctl stop always gets through."
            })
    Path apiSocket;

    @Option(
            names = {"--log-level", "--loglevel"},
            paramLabel = "LEVEL",
            description =
                    "jvmm's stderr logging: error, warn or warning (default: warn), info, debug.")
    String logLevel = "warn";

    @Mixin KvmtoolOptions kvmtool = new KvmtoolOptions();

    @Option(
            names = "--restore",
            paramLabel = "DIR",
            description = {
                "Continue the guest saved in snapshot DIR (jvmm ctl snapshot) where it was. The"
                        + " snapshot defines the guest: only --serial, --api-socket, --timeout,"
                        + " --log-level, --on-reset and --mem-lock may be given with it. Disks and taps"
                        + " are reattached at their saved paths and names; a disk changed since is refused."
            })
    Path restore;

    @Spec CommandSpec spec;

    @Override
    @SuppressWarnings(
            "try") // api is closed early on purpose (see below); the try still closes it on every
    // other path
    public Integer call() throws Exception {
        Logging.configure(logLevel);
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
        Snapshot snapshot = Snapshot.open(restore);
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
