package dev.jvmm.cli;

import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.firmware.HypercallSelection;
import dev.jvmm.core.hypercall.FunctionRange;
import dev.jvmm.core.hypercall.ImplCpu;
import dev.jvmm.core.hypercall.sdei.SdeiEventSpec;
import dev.jvmm.core.vm.DiskConfig;
import dev.jvmm.core.vm.NetConfig;
import dev.jvmm.core.vm.VirtioTransportKind;
import dev.jvmm.core.vm.VmConfig;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code jvmm run}'s command-line model: every option's names, value syntax and help, bound to
 * {@link RunCommand}'s fields, in the order {@code --help} lists them (built in code: {@link
 * CliModel}).
 */
final class RunModel {
    private RunModel() {}

    /** The model of {@code command}, whose fields the options set. */
    static CommandSpec of(RunCommand c) {
        CommandSpec spec =
                CliModel.command(
                        c,
                        "run",
                        "Boot an arm64 Linux Image (or Image.gz, or a raw binary) under KVM with a 16550A serial console (ttyS0) and, "
                                + "when asked, virtio-mmio disks, NICs, an entropy source and a virtio console (hvc0).",
                        "stdout carries only the guest console; jvmm's own messages go to stderr.",
                        "On a terminal, stdin is raw while the guest runs: Ctrl-A x quits (exit 130), Ctrl-A Ctrl-A sends Ctrl-A.");
        spec.usageMessage().sortOptions(false);
        c.spec = spec;
        spec.addOption(
                CliModel.value(
                        Path.class,
                        () -> c.kernel,
                        v -> c.kernel = v,
                        OptionSpec.builder("-k", "--kernel")
                                .paramLabel("FILE")
                                .description(
                                        "Required unless --restore. arm64 kernel Image, uncompressed or gzip-compressed, or a raw binary (a file without"
                                                + " the Image magic: loaded at RAM + 0x80000 and entered at its first byte, as"
                                                + " kvmtool does); a regular file, opened once at start and held open (an"
                                                + " in-place reboot reads that file again, and stops if it was rewritten in place).")));
        spec.addOption(
                CliModel.value(
                        Path.class,
                        () -> c.initrd,
                        v -> c.initrd = v,
                        OptionSpec.builder("-i", "--initrd")
                                .paramLabel("FILE")
                                .description(
                                        "Initial ramdisk (initramfs) to load; a regular file, held open like the kernel.")));
        spec.addOption(
                CliModel.value(
                        String.class,
                        () -> c.params,
                        v -> c.params = v,
                        OptionSpec.builder("-p", "--params", "--cmdline")
                                .paramLabel("ARGS")
                                .description(
                                        "Kernel command line. 'console=ttyS0' (hvc0 with --console virtio) is added when it names no console,"
                                                + " unless --nodefaults. At most 2047 bytes.")));
        spec.addOption(
                CliModel.value(
                        int.class,
                        () -> c.cpus,
                        v -> c.cpus = v,
                        OptionSpec.builder("-c", "--cpus")
                                .paramLabel("N")
                                .description(
                                        "Number of vCPUs (default: ${DEFAULT-VALUE}); more than the host's online CPUs is a"
                                                + " warning, more than KVM allows an error.")));
        spec.addOption(
                CliModel.value(
                        long.class,
                        () -> c.memoryBytes,
                        v -> c.memoryBytes = v,
                        OptionSpec.builder("-m", "--memory", "--mem")
                                .paramLabel("SIZE")
                                .converters(new RunCommand.MemoryConverter())
                                .description(
                                        "Guest RAM: MiB (as kvmtool's -m/--mem), or with a K/M/G/T suffix; 16M at least"
                                                + " (default: 256M).")));
        spec.addOption(
                CliModel.value(
                        SerialTarget.class,
                        () -> c.serial,
                        v -> c.serial = v,
                        OptionSpec.builder("--serial")
                                .paramLabel("stdio|file=PATH|none")
                                .converters(new RunCommand.SerialConverter())
                                .description(
                                        "Where the serial console goes (default: stdio). file=PATH is created or truncated only once"
                                                + " every input is checked and every disk locked.",
                                        "The guest never waits for the reader: output beyond a 1 MiB buffer it has not taken is dropped,"
                                                + " and the count logged at exit.",
                                        "Kernel, initrd, disks, serial file, --dump-dtb and --api-socket must be different files.")));
        spec.addOption(
                CliModel.list(
                        DiskConfig.class,
                        () -> c.disks,
                        v -> c.disks = v,
                        OptionSpec.builder("-d", "--disk")
                                .paramLabel(DeviceOptions.DISK_SYNTAX)
                                .converters(new DeviceOptions.DiskConverter())
                                .description(
                                        "A virtio-blk disk backed by FILE (repeatable: vda, vdb, ... in order). ro=on attaches it "
                                                + "read-only (required for a file jvmm may not write). ',,' in FILE is a comma.")));
        spec.addOption(
                CliModel.list(
                        NetConfig.class,
                        () -> c.nets,
                        v -> c.nets = v,
                        OptionSpec.builder("--net")
                                .paramLabel(DeviceOptions.NET_SYNTAX)
                                .converters(new DeviceOptions.NetConverter())
                                .description(
                                        "A virtio-net NIC on host tap interface NAME (repeatable), created if missing and jvmm may. "
                                                + "The default MAC is derived from NAME: locally administered, the same on every run.")));
        spec.addOption(
                CliModel.flag(
                        () -> c.rng,
                        v -> c.rng = v,
                        OptionSpec.builder("--rng")
                                .description(
                                        "A virtio-rng entropy device fed from the host's /dev/urandom (guest /dev/hwrng).")));
        spec.addOption(
                CliModel.value(
                        RunCommand.ConsoleDevice.class,
                        () -> c.console,
                        v -> c.console = v,
                        OptionSpec.builder("--console")
                                .paramLabel("serial|virtio")
                                .description(
                                        "The console device: the 16550A, ttyS0 (default), or virtio-console, hvc0 ('console=hvc0' is "
                                                + "added when the command line names no console; the UART stays but is not connected). "
                                                + "--serial says where either one goes.")));
        spec.addOption(
                CliModel.value(
                        VirtioTransportKind.class,
                        () -> c.virtioTransport,
                        v -> c.virtioTransport = v,
                        OptionSpec.builder("--virtio-transport")
                                .paramLabel("pci|mmio")
                                .description(
                                        "How virtio devices reach the guest: pci (default, as kvmtool's), modern virtio-pci behind an"
                                                + " ECAM host bridge, which kernels with VIRTIO_PCI built in (Debian's) see without any"
                                                + " module; or mmio, virtio-mmio with one window and SPI per device.")));
        spec.addOption(
                CliModel.value(
                        Path.class,
                        () -> c.dumpDtb,
                        v -> c.dumpDtb = v,
                        OptionSpec.builder("--dump-dtb")
                                .paramLabel("FILE")
                                .description(
                                        "Write the generated device tree blob to FILE and exit 0 without running the guest.")));
        spec.addOption(
                CliModel.value(
                        Duration.class,
                        () -> c.timeout,
                        v -> c.timeout = v,
                        OptionSpec.builder("--timeout")
                                .paramLabel("DURATION")
                                .converters(new RunCommand.DurationConverter())
                                .description(
                                        "Stop the guest after DURATION (30, 30s, 500ms, 2m; 1ms to 8760h) and exit 124.")));
        spec.addOption(
                CliModel.value(
                        VmConfig.OnReset.class,
                        () -> c.onReset,
                        v -> c.onReset = v,
                        OptionSpec.builder("--on-reset")
                                .paramLabel("exit|reboot")
                                .description(
                                        "On a guest reset: exit with code 32 (default) or reboot in place.")));
        spec.addOption(
                CliModel.flag(
                        () -> c.noPvTime,
                        v -> c.noPvTime = v,
                        OptionSpec.builder("--no-pvtime")
                                .description(
                                        "No PV stolen time for the guest (on by default where the host has it).")));
        spec.addOption(
                CliModel.value(
                        HypercallSelection.class,
                        () -> c.hypercalls,
                        v -> c.hypercalls = v,
                        OptionSpec.builder("--hypercalls")
                                .paramLabel("LIST")
                                .parameterConsumer(new RunCommand.HypercallsConsumer())
                                .description(
                                        "Hypercall services the guest may see: all (default: what the host's KVM offers), none,"
                                                + " +NAME / -NAME to add or remove, comma-separated; a list starting with a bare NAME offers"
                                                + " exactly the names listed. Services: trng, pv-time, kvm-features, ptp,"
                                                + " discover-impl-ver, discover-impl-cpus (see jvmm caps).")));
        c.cpu.addOptions(spec);
        spec.addOption(
                CliModel.value(
                        PsciVersion.class,
                        () -> c.psci,
                        v -> c.psci = v,
                        OptionSpec.builder("--psci")
                                .paramLabel("VERSION")
                                .converters(new RunCommand.PsciConverter())
                                .description(
                                        "PSCI version the guest sees: 0.1, 0.2, 1.0, 1.1, 1.2 or 1.3, up to what the host"
                                                + " implements (default: the highest).")));
        spec.addOption(
                CliModel.flag(
                        () -> c.memLock,
                        v -> c.memLock = v,
                        OptionSpec.builder("--mem-lock")
                                .description(
                                        "Pre-fault and pin guest RAM and the PV-time records before the"
                                                + " guest starts (MADV_POPULATE_WRITE + mlock), so it never waits on a host page fault.",
                                        "Needs RLIMIT_MEMLOCK (ulimit -l) of at least the RAM size, or CAP_IPC_LOCK.")));
        spec.addOption(
                CliModel.flag(
                        () -> c.sdei,
                        v -> c.sdei = v,
                        OptionSpec.builder("--sdei")
                                .description(
                                        "Serve SDEI 1.1 (software delegated exceptions) to the guest from jvmm:"
                                                + " a /firmware/sdei node (method hvc) in the device tree and the SDEI calls forwarded to userspace."
                                                + " Event 0 (EVENT_SIGNAL) is always there. Needs a KVM with the SMCCC filter (Linux 6.4+).")));
        spec.addOption(
                CliModel.list(
                        SdeiEventSpec.class,
                        () -> c.sdeiEvents,
                        v -> c.sdeiEvents = v,
                        OptionSpec.builder("--sdei-event")
                                .paramLabel("NUM,shared|private,normal|critical")
                                .converters(new RunCommand.SdeiEventConverter())
                                .description(
                                        "Also offer SDEI event NUM (1..2147483647) of that type and priority, e.g. 100,private,normal;"
                                                + " repeatable; needs --sdei.")));
        spec.addOption(
                CliModel.list(
                        FunctionRange.class,
                        () -> c.smcccDeny,
                        v -> c.smcccDeny = v,
                        OptionSpec.builder("--smccc")
                                .paramLabel("deny=RANGE")
                                .converters(new RunCommand.SmcccConverter())
                                .description(
                                        "Hide SMCCC function IDs from the guest: calls in RANGE are answered NOT_SUPPORTED"
                                                + " (and counted). RANGE is FIRST-LAST, BASE+COUNT or one ID, hex or decimal, e.g."
                                                + " deny=0xC4000020-0xC400003F; repeatable. The Arm architecture calls (0x80000000-0x8000FFFF,"
                                                + " 0xC0000000-0xC000FFFF) cannot be denied.")));
        spec.addOption(
                CliModel.flag(
                        () -> c.sharedRegions,
                        v -> c.sharedRegions = v,
                        OptionSpec.builder("--shared-regions")
                                .description(
                                        "Serve the pKVM memory-sharing calls (HYP_MEMINFO, MEM_SHARE,"
                                                + " MEM_UNSHARE) and list what the guest shares. Off by default: a guest with the pKVM guest driver"
                                                + " that finds them believes it is protected and bounces all DMA through shared buffers."
                                                + " The list costs one bit per 4 KiB of RAM at most.")));
        spec.addOption(
                CliModel.list(
                        ImplCpu.class,
                        () -> c.implCpus,
                        v -> c.implCpus = v,
                        OptionSpec.builder("--impl-cpu")
                                .paramLabel("midr=V[,revidr=V][,aidr=V]")
                                .converters(new RunCommand.ImplCpuConverter())
                                .description(
                                        "A CPU implementation the guest may run on (MIDR_EL1, REVIDR_EL1, AIDR_EL1; the last two"
                                                + " default to 0), repeatable, in index order: jvmm answers DISCOVER_IMPL_VER and"
                                                + " DISCOVER_IMPL_CPUS with the list, so a Linux 6.15+ guest enables the errata"
                                                + " workarounds of every CPU it may be moved to. Where KVM has VENDOR_HYP_BMAP_2 (Linux"
                                                + " 6.15+) the guest finds the calls through KVM_FEATURES (--hypercalls"
                                                + " discover-impl-ver,discover-impl-cpus, on by default with this option). Needs the"
                                                + " SMCCC filter (Linux 6.4+).")));
        spec.addOption(
                CliModel.value(
                        Path.class,
                        () -> c.apiSocket,
                        v -> c.apiSocket = v,
                        OptionSpec.builder("--api-socket")
                                .paramLabel("PATH")
                                .description(
                                        "Serve the control API (jvmm ctl) on a Unix socket at PATH, mode 0600 (only you can connect).",
                                        "A leftover socket nobody listens on is replaced; the socket is removed when jvmm exits.",
                                        "A client jvmm waits on for 10 s (no complete request, or an answer it does not read) is closed; "
                                                + "of at most 32 connections, a new one closes the longest-idle, so jvmm ctl stop always gets through.")));
        spec.addOption(
                CliModel.value(
                        String.class,
                        () -> c.logLevel,
                        v -> c.logLevel = v,
                        OptionSpec.builder("--log-level", "--loglevel")
                                .paramLabel("LEVEL")
                                .description(
                                        "jvmm's stderr logging: error, warn or warning (default: warn), info, debug.")));
        c.kvmtool.addOptions(spec);
        spec.addOption(
                CliModel.value(
                        Path.class,
                        () -> c.restore,
                        v -> c.restore = v,
                        OptionSpec.builder("--restore")
                                .paramLabel("DIR")
                                .description(
                                        "Continue the guest saved in snapshot DIR (jvmm ctl snapshot) where it was. The"
                                                + " snapshot defines the guest: only --serial, --api-socket, --timeout,"
                                                + " --log-level, --on-reset and --mem-lock may be given with it. Disks and taps"
                                                + " are reattached at their saved paths and names; a disk changed since is refused.")));
        return CliModel.standardHelp(spec);
    }
}
