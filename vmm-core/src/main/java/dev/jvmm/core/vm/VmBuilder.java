package dev.jvmm.core.vm;

import dev.jvmm.core.KvmHost;
import dev.jvmm.core.UnsupportedRequestException;
import dev.jvmm.core.arch.DeviceTreeBuilder;
import dev.jvmm.core.arch.DeviceTreeInput;
import dev.jvmm.core.arch.FdtContributor;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.arch.aarch64.Aarch64Cpus;
import dev.jvmm.core.arch.aarch64.GsiRoutes;
import dev.jvmm.core.arch.aarch64.VgicV3;
import dev.jvmm.core.boot.BootImageException;
import dev.jvmm.core.boot.BootImages;
import dev.jvmm.core.boot.BootPlacement;
import dev.jvmm.core.boot.KernelLoader;
import dev.jvmm.core.device.ConsoleOutput;
import dev.jvmm.core.device.IrqLine;
import dev.jvmm.core.device.MmioBus;
import dev.jvmm.core.device.Pl031Rtc;
import dev.jvmm.core.device.Uart8250Device;
import dev.jvmm.core.firmware.FirmwarePort;
import dev.jvmm.core.firmware.FirmwareSetup;
import dev.jvmm.core.firmware.GuestFirmware;
import dev.jvmm.core.firmware.HostFirmware;
import dev.jvmm.core.firmware.HypercallService;
import dev.jvmm.core.firmware.PvTimeRegion;
import dev.jvmm.core.hypercall.FilterRange;
import dev.jvmm.core.hypercall.HypercallConfig;
import dev.jvmm.core.hypercall.HypercallServices;
import dev.jvmm.core.hypercall.sdei.HandlerPstate;
import dev.jvmm.core.hypercall.sdei.SdeiDeviceTree;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.GuestRam;
import dev.jvmm.core.memory.MemoryLock;
import dev.jvmm.core.memory.SegmentGuestMemory;
import dev.jvmm.core.snapshot.GuestDefinition;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The composition root: builds a VM in the order KVM requires (memory, VM, vGIC, vCPUs, vGIC init,
 * firmware registers and PV time, memory locking, devices, device tree, images, boot registers) and
 * hands everything to a {@link Machine}. Two things run beside the main thread meanwhile: the
 * kernel and initrd are copied into guest RAM from the moment it is mapped ({@link ImagePreload}),
 * and, when asked for, the exit path is warmed up once the vCPUs exist ({@link ExitPathWarmup}).
 * The copy is joined before the device tree is written; the warm-up releases vCPU 0 before the
 * vCPUs start and runs on beside the guest until its first userspace exit. On any failure the parts
 * built so far are released in reverse order (a running copy is stopped before guest RAM is
 * unmapped).
 */
public final class VmBuilder {
    private static final System.Logger LOG = System.getLogger("jvmm.vm");

    /** Memslot 0 is guest RAM; the PV stolen-time records get their own. */
    static final int RAM_SLOT = 0, PVTIME_SLOT = 1;

    private final VmConfig config;
    private final BootImages images;
    private final VirtioConfig virtio;
    private final Layout layout;

    /**
     * The saved guest a restore rebuilds (no images are loaded, the firmware is pinned); or null.
     */
    private final GuestDefinition restoring;

    private List<FdtContributor> extraNodes = List.of();
    private byte[] dtb;

    /**
     * {@code images} come from {@link KernelLoader#prepare}, which validated them before any KVM fd
     * existed.
     */
    public VmBuilder(VmConfig config, BootImages images) {
        this(config, images, VirtioConfig.NONE);
    }

    /** A VM with the virtio devices {@code virtio} describes. */
    public VmBuilder(VmConfig config, BootImages images, VirtioConfig virtio) {
        this(config, images, virtio, null);
    }

    private VmBuilder(
            VmConfig config, BootImages images, VirtioConfig virtio, GuestDefinition restoring) {
        this.config = config;
        this.images = images;
        this.virtio = virtio;
        this.restoring = restoring;
        this.layout = new Layout(config.memoryBytes(), config.cpus());
    }

    /**
     * The machine a snapshot's guest ran on, built as a boot builds it (same memslots, device
     * addresses, vCPUs and features) but with no kernel, initrd or device tree loaded and the
     * firmware registers set to what the guest had: {@link RestoredMachine} fills in the rest.
     */
    static VmBuilder restoring(VmConfig config, VirtioConfig virtio, GuestDefinition saved) {
        return new VmBuilder(config, null, virtio, saved);
    }

    public Layout layout() {
        return layout;
    }

    /** The device tree of the last {@link #build()}, for --dump-dtb. */
    public byte[] deviceTree() {
        return dtb;
    }

    /**
     * Builds the machine: KVM VM, guest RAM, devices, vCPUs and the loaded images, ready to run.
     *
     * @throws UnsupportedRequestException when the host cannot honour an option (before any vCPU
     *     ran; for --mem-lock's limit check, before /dev/kvm is even opened)
     */
    public Machine build() {
        if (config.memLock()) checkMemLockLimit();
        List<AutoCloseable> undo = new ArrayList<>();
        MachineHolder holder = new MachineHolder();
        // devices write into a bounded buffer and never wait for the console's reader; the panic
        // watch
        // sits in front of it, so it sees every byte the guest wrote, also those the buffer drops
        ConsoleOutput consoleOut = ConsoleOutput.start(config.consoleOut());
        PanicWatch console =
                new PanicWatch(
                        consoleOut,
                        () ->
                                holder.stop(
                                        VmResult.of(
                                                VmResult.Reason.PANIC,
                                                "guest kernel panic (seen on the console)")));
        // images and taps first: one that cannot be opened should cost no KVM set-up
        List<VirtioDevice> devices;
        try {
            devices = VirtioDeviceFactory.open(virtio, console);
        } catch (RuntimeException e) {
            consoleOut.close();
            throw e;
        }
        ExitPathWarmup.Running warmup = null;
        try {
            undo.add(consoleOut);
            undo.add(() -> devices.forEach(VirtioDevice::close));
            Kvm kvm = KvmHost.openArm64();
            undo.add(kvm);
            int hostIpa = kvm.checkExtension(KvmUapi.KVM_CAP_ARM_VM_IPA_SIZE());
            int ipaBits = hostIpa >= layout.ipaBits() ? layout.ipaBits() : 0;
            Vm vm = kvm.createVm(ipaBits);
            undo.add(vm);
            GuestRam guestRam = GuestRam.map(layout.ramBytes());
            undo.add(guestRam);
            MemorySegment ram = guestRam.segment();
            GuestMemory mem = new SegmentGuestMemory(layout.ramBase(), ram);
            // the kernel and initrd are copied while the rest is set up; joined before the RAM
            // could be unmapped (undo runs in reverse) and before the device tree is written
            ImagePreload preload = images == null ? null : ImagePreload.start(mem, images);
            if (preload != null) undo.add(preload);
            vm.setUserMemoryRegion(RAM_SLOT, 0, layout.ramBase(), ram);
            StartupLog.mark("VM created, RAM mapped");

            boolean pciFunctions =
                    virtio.transport() == VirtioTransportKind.PCI && !devices.isEmpty();
            VmConfig built =
                    config.withCpu(
                            config.cpu()
                                    .withIrqchip(
                                            VgicV3.choose(
                                                    vm, config.cpu().irqchip(), pciFunctions)));
            Aarch64Cpus cpus =
                    Aarch64Cpus.create(
                            kvm,
                            vm,
                            layout,
                            config.cpus(),
                            built.cpu(),
                            config.firmware().psci02(),
                            undo);
            VgicV3 gic = cpus.gic();
            List<Vcpu> vcpus = cpus.vcpus();
            // only when asked for (-Djvmm.exitWarmupRounds): it releases vCPU 0 before any vCPU
            // runs
            if (ExitPathWarmup.ROUNDS > 0) warmup = ExitPathWarmup.start(vm, vcpus.get(0));
            StartupLog.mark("vCPUs and interrupt controller created");

            Firmware fwParts = setUpFirmware(vm, vcpus, undo);
            GuestFirmware fw = fwParts.guest();
            if (config.memLock()) lockMemory(vm, vcpus.get(0), ram, fwParts.pvTime());
            StartupLog.mark("firmware set up");

            List<Long> mpidrs = vcpus.stream().map(v -> v.getOneReg(RegIds.MPIDR_EL1)).toList();
            HypercallServices hypercalls =
                    hypercallServices(vm, FirmwarePort.of(vcpus.get(0)), vcpus.get(0), mpidrs);
            List<VcpuMailbox> mailboxes =
                    vcpus.stream().map(v -> new VcpuMailbox(v::kick)).toList();
            hypercalls
                    .sdei()
                    .ifPresent(
                            sdei ->
                                    sdei.setWaker(
                                            cpu ->
                                                    mailboxes
                                                            .get(cpu)
                                                            .post(
                                                                    regs ->
                                                                            sdei.deliverPending(
                                                                                    cpu, regs))));

            IrqLine uartIrq = high -> vm.irqLine(spi(Layout.UART_INTID), high);
            // with a virtio console the UART stays (kernels and DTs expect it) but is not connected
            Uart8250Device uart =
                    new Uart8250Device(
                            uartIrq,
                            virtio.consoleOnVirtio() ? OutputStream.nullOutputStream() : console);
            MmioBus bus = new MmioBus();
            bus.register(Layout.UART_BASE, Layout.UART_SIZE, uart, "ttyS0");
            Pl031Rtc rtc = Pl031Rtc.onHostClock(high -> vm.irqLine(spi(Layout.RTC_INTID), high));
            undo.add(rtc);
            bus.register(layout.rtc().base(), layout.rtc().size(), rtc, "rtc");

            GsiRoutes gsiRoutes = GsiRoutes.of(vm);
            VirtioDevices wired =
                    VirtioDevices.wire(
                            devices,
                            virtio.transport(),
                            layout,
                            bus,
                            mem,
                            NotificationRouting.of(vm, gsiRoutes, gic.its().orElse(null)));
            undo.add(wired);
            wired.threads().forEach(guestRam::addUser);
            List<FdtContributor> nodes = new ArrayList<>();
            nodes.add(DeviceTreeBuilder.pl031Rtc(layout.rtc(), Layout.RTC_INTID));
            nodes.addAll(wired.deviceTreeNodes(gic.its().isPresent()));
            if (hypercalls.sdei().isPresent()) nodes.add(SdeiDeviceTree.node());
            nodes.addAll(cpus.deviceTreeNodes());
            extraNodes = List.copyOf(nodes);
            PsciVersion psci = fw.psci();
            boolean its = gic.its().isPresent();
            Runnable loadImages =
                    images == null
                            ? () -> {
                                throw new UnsupportedRequestException(
                                        "a restored guest cannot reboot in place: its kernel is"
                                                + " not part of the snapshot");
                            }
                            : () ->
                                    loadAndPoint(
                                            () -> KernelLoader.load(mem, images),
                                            mem,
                                            vcpus.get(0),
                                            mpidrs,
                                            psci,
                                            its);
            StartupLog.mark("devices wired");
            if (preload != null) loadAndPoint(preload::await, mem, vcpus.get(0), mpidrs, psci, its);
            StartupLog.mark("images loaded");

            ExitDispatcher dispatcher =
                    new ExitDispatcher(
                            bus, ExitDispatcher.routeTo(hypercalls.router()), config.onReset());
            PvTimeRegion pv = fwParts.pvTime();
            // the warm-up's second phase runs on beside the guest's first instructions, which
            // need no userspace exit; the dispatcher waits for its end before its first exit
            if (warmup != null) {
                warmup.releaseVcpu();
                dispatcher.beforeFirstExit(warmup::finish);
            }
            Machine m =
                    new Machine(
                            kvm,
                            vm,
                            guestRam,
                            gic,
                            vcpus,
                            uart,
                            rtc,
                            consoleOut,
                            wired,
                            dispatcher,
                            built,
                            () -> {
                                wired.reset(); // before the images are reloaded: no device may
                                // write into the old rings
                                rtc.reset(); // keeps its time, as a battery-backed clock does
                                gic.resetLpis(mpidrs); // the old guest's ITS and LPI
                                // tables
                                // bitmaps, PSCI version and PV-time IPAs are VM state that
                                // KVM_ARM_VCPU_INIT keeps
                                for (Vcpu v : vcpus) cpus.init().init(v);
                                if (pv != null) pv.clear();
                                loadImages.run();
                            },
                            fwParts.setup(),
                            fw,
                            pv,
                            hypercalls,
                            mailboxes,
                            new Machine.BuiltWith(
                                    virtio, ipaBits == 0 ? 40 : ipaBits, cpus.stateParts()));
            holder.machine = m;
            return m;
        } catch (RuntimeException e) {
            if (warmup != null) warmup.cancel(); // it must not use vCPU 0 while that closes
            Undo.unwind(undo, e);
            throw e;
        }
    }

    /**
     * The firmware step's results: the write guard, what the guest sees, the PV-time records (or
     * null).
     */
    private record Firmware(FirmwareSetup setup, GuestFirmware guest, PvTimeRegion pvTime) {}

    /**
     * Reads the host's firmware on vCPU 0 (before anything is written), decides, writes the PSCI
     * version and changed bitmaps, and maps the PV-time page and points each vCPU at its record.
     */
    private Firmware setUpFirmware(Vm vm, List<Vcpu> vcpus, List<AutoCloseable> undo) {
        List<FirmwarePort> ports = vcpus.stream().map(FirmwarePort::of).toList();
        HostFirmware host = HostFirmware.read(ports.get(0));
        GuestFirmware fw =
                restoring != null
                        ? SavedConfig.firmware(restoring, host)
                        : GuestFirmware.decide(
                                config.firmware(),
                                host,
                                vmmServed(config.hypercalls()),
                                w -> LOG.log(Level.WARNING, w));
        FirmwareSetup setup = new FirmwareSetup();
        setup.writeRegisters(ports.get(0), fw);
        PvTimeRegion pv = null;
        if (fw.pvTime()) {
            pv = PvTimeRegion.map(vm, PVTIME_SLOT, layout);
            undo.add(pv);
            for (FirmwarePort p : ports) setup.setPvTimeIpa(p, pv.records().address(p.id()));
        }
        LOG.log(Level.INFO, fw.describe(layout.pvTime().base()));
        return new Firmware(setup, fw, pv);
    }

    /** The bitmap services KVM forwards to the VMM that this run's jvmm answers. */
    static Set<HypercallService> vmmServed(HypercallConfig h) {
        return h.servesDiscoverImpl()
                ? EnumSet.of(
                        HypercallService.DISCOVER_IMPL_VER, HypercallService.DISCOVER_IMPL_CPUS)
                : EnumSet.noneOf(HypercallService.class);
    }

    /** What --mem-lock pins: RAM, plus the PV-time page when the guest may get one. */
    private long lockedBytes() {
        return layout.ramBytes() + (config.firmware().wantsPvTime() ? layout.pvTime().size() : 0);
    }

    /** Fails before /dev/kvm is opened when RLIMIT_MEMLOCK cannot cover --mem-lock. */
    private void checkMemLockLimit() {
        String what =
                layout.ramBytes() / Layout.MIB
                        + " MiB RAM"
                        + (config.firmware().wantsPvTime()
                                ? " + "
                                        + layout.pvTime().size() / Layout.KIB
                                        + " KiB PV-time records"
                                : "");
        MemoryLock.limitProblem(lockedBytes(), what)
                .ifPresent(
                        msg -> {
                            throw new UnsupportedRequestException(msg);
                        });
    }

    /**
     * Pre-faults and pins RAM and the PV-time records (host side), then asks KVM to map them at
     * stage 2 too where it can (KVM_PRE_FAULT_MEMORY; no mainline arm64 KVM offers it yet).
     */
    private void lockMemory(Vm vm, Vcpu vcpu0, MemorySegment ram, PvTimeRegion pv) {
        MemoryLock.lock(ram, "guest RAM");
        if (pv != null) MemoryLock.lock(pv.memory(), "PV-time records");
        if (vm.checkExtension(KvmUapi.KVM_CAP_PRE_FAULT_MEMORY()) > 0) {
            vcpu0.preFaultMemory(layout.ramBase(), layout.ramBytes());
            if (pv != null) vcpu0.preFaultMemory(layout.pvTime().base(), layout.pvTime().size());
            LOG.log(
                    Level.INFO,
                    "--mem-lock: guest memory pinned and mapped at stage 2 (KVM_PRE_FAULT_MEMORY)");
        } else {
            long kib = (ram.byteSize() + (pv != null ? pv.memory().byteSize() : 0)) / Layout.KIB;
            LOG.log(
                    Level.INFO,
                    "--mem-lock: guest memory pinned ("
                            + kib
                            + " KiB); this KVM"
                            + " has no KVM_CAP_PRE_FAULT_MEMORY, so stage 2 maps each pinned page on first touch");
        }
    }

    /**
     * The SMCCC router and services of --sdei, --shared-regions and --smccc, with their filter
     * ranges installed (KVM_ARM_VM_SMCCC_FILTER, FWD_TO_USER) — before the first run, the only time
     * KVM takes them. The vendor-hyp bitmaps are read back after the firmware registers were
     * written: the FEATURES answer must be what KVM itself would give this VM.
     *
     * @throws UnsupportedRequestException when the options need the filter and this KVM has none
     */
    private HypercallServices hypercallServices(
            Vm vm, FirmwarePort vcpu0, Vcpu boot, List<Long> mpidrs) {
        HypercallConfig cfg = config.hypercalls();
        if (cfg.needsFilter()
                && !vm.hasAttribute(
                        KvmUapi.KVM_ARM_VM_SMCCC_CTRL(), KvmUapi.KVM_ARM_VM_SMCCC_FILTER())) {
            throw new UnsupportedRequestException(
                    cfg.options()
                            + ": this host's KVM cannot forward SMCCC calls to"
                            + " userspace (no KVM_ARM_VM_SMCCC_FILTER VM attribute; it came with Linux 6.4)");
        }
        long[] v = new long[1];
        long vendorHyp = vcpu0.tryGetOneReg(RegIds.VENDOR_HYP_BMAP, v) == 0 ? v[0] : 0;
        long vendorHyp2 = vcpu0.tryGetOneReg(RegIds.VENDOR_HYP_BMAP_2, v) == 0 ? v[0] : 0;
        HandlerPstate pstate =
                HandlerPstate.fromIdRegisters(
                        boot.getOneReg(RegIds.ID_AA64MMFR1_EL1),
                        boot.getOneReg(RegIds.ID_AA64PFR1_EL1));
        HypercallServices s;
        try {
            s =
                    HypercallServices.build(
                            cfg,
                            new HypercallServices.Platform(
                                    mpidrs,
                                    pstate,
                                    layout.ramBase(),
                                    layout.ramBytes(),
                                    vendorHyp,
                                    vendorHyp2));
        } catch (IllegalStateException e) {
            throw new UnsupportedRequestException(e.getMessage());
        }
        for (FilterRange f : s.router().filterRanges()) {
            vm.setSmcccFilter(f.base(), f.count(), f.action().kvmValue(), f.toString());
        }
        if (!s.router().filterRanges().isEmpty()) {
            LOG.log(
                    Level.INFO,
                    "SMCCC calls served by jvmm: "
                            + s.router().filterRanges()
                            + (s.sdei().isPresent()
                                    ? "; SDEI events " + s.sdei().get().events()
                                    : ""));
        }
        return s;
    }

    /** Where the kernel and initrd were copied: on a thread of its own or in place. */
    private interface ImageCopy {
        BootPlacement placement() throws BootImageException;
    }

    /**
     * Takes the copied kernel and initrd, writes a fresh DTB and points the boot vCPU at the kernel
     * (x0 = DTB).
     */
    private void loadAndPoint(
            ImageCopy copy,
            GuestMemory mem,
            Vcpu boot,
            List<Long> mpidrs,
            PsciVersion psci,
            boolean its) {
        try {
            BootPlacement p = copy.placement();
            DeviceTreeInput in =
                    DeviceTreeInput.of(
                            layout,
                            mpidrs.stream()
                                    .map(m -> m & DeviceTreeInput.MPIDR_AFFINITY_MASK)
                                    .toList(),
                            psci,
                            config.cmdline());
            if (p.hasInitrd()) in = in.withInitrd(p.initrdStart(), p.initrdEnd());
            in = in.withExtraNodes(extraNodes);
            if (its) in = in.withIts();
            dtb = new DeviceTreeBuilder().build(in);
            KernelLoader.writeDtb(mem, p, dtb);
            boot.setOneReg(RegIds.PC, p.entryPoint());
            boot.setOneReg(RegIds.x(0), p.dtbAddress());
            for (int r = 1; r <= 3; r++) boot.setOneReg(RegIds.x(r), 0);
        } catch (BootImageException e) {
            // a held kernel or initrd rewritten in place is the user's doing, and says so
            if (e.kind() == BootImageException.Kind.CHANGED) throw e;
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** The arm64 KVM_IRQ_LINE encoding of a shared peripheral interrupt. */
    static int spi(int intid) {
        return KvmUapi.KVM_ARM_IRQ_TYPE_SPI() << KvmUapi.KVM_ARM_IRQ_TYPE_SHIFT() | intid;
    }

    /** Lets the console's panic watch reach the Machine that is created after it. */
    private static final class MachineHolder {
        volatile Machine machine;

        void stop(VmResult r) {
            Machine m = machine;
            if (m != null) m.stop(r);
        }
    }
}
