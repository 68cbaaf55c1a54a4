package dev.jvmm.core.vm;

import dev.jvmm.core.KvmHost;
import dev.jvmm.core.arch.DeviceTreeBuilder;
import dev.jvmm.core.arch.DeviceTreeInput;
import dev.jvmm.core.arch.FdtContributor;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.boot.BootImageException;
import dev.jvmm.core.boot.BootImages;
import dev.jvmm.core.boot.BootPlacement;
import dev.jvmm.core.boot.KernelLoader;
import dev.jvmm.core.device.IrqLine;
import dev.jvmm.core.device.MmioBus;
import dev.jvmm.core.device.Uart8250Device;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.SegmentGuestMemory;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.kvm.Device;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.sys.Libc;
import dev.jvmm.kvm.uapi.KvmUapi;

import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The composition root: builds a VM in the order KVM requires (memory, VM, vGIC, vCPUs, vGIC init,
 * devices, device tree, images, boot registers) and hands everything to a {@link Machine}. On any
 * failure the parts built so far are released in reverse order.
 */
public final class VmBuilder {
    private final VmConfig config;
    private final BootImages images;
    private final VirtioConfig virtio;
    private final Layout layout;
    private List<FdtContributor> extraNodes = List.of();
    private byte[] dtb;

    /** {@code images} come from {@link KernelLoader#prepare}, which validated them before any KVM fd existed. */
    public VmBuilder(VmConfig config, BootImages images) {
        this(config, images, VirtioConfig.NONE);
    }

    /** A VM with the virtio devices {@code virtio} describes. */
    public VmBuilder(VmConfig config, BootImages images, VirtioConfig virtio) {
        this.config = config;
        this.images = images;
        this.virtio = virtio;
        this.layout = new Layout(config.memoryBytes(), config.cpus());
    }

    public Layout layout() { return layout; }

    /** The device tree of the last {@link #build()}, for --dump-dtb. */
    public byte[] deviceTree() { return dtb; }

    public Machine build() {
        List<AutoCloseable> undo = new ArrayList<>();
        MachineHolder holder = new MachineHolder();
        PanicWatch console = new PanicWatch(config.consoleOut(), () -> holder.stop(
                VmResult.of(VmResult.Reason.PANIC, "guest kernel panic (seen on the console)")));
        // images and taps first: one that cannot be opened should cost no KVM set-up
        List<VirtioDevice> devices = VirtioDeviceFactory.open(virtio, console);
        try {
            undo.add(() -> devices.forEach(VirtioDevice::close));
            Kvm kvm = KvmHost.openArm64();
            undo.add(kvm);
            int hostIpa = kvm.checkExtension(KvmUapi.KVM_CAP_ARM_VM_IPA_SIZE());
            Vm vm = kvm.createVm(hostIpa >= layout.ipaBits() ? layout.ipaBits() : 0);
            undo.add(vm);
            MemorySegment ram = Libc.mmap(layout.ramBytes(), Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0, "mmap(guest RAM)");
            undo.add(() -> Libc.munmap(ram));
            vm.setUserMemoryRegion(0, 0, layout.ramBase(), ram);

            Device gic = vm.createDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_V3(), "vgic-v3");
            undo.add(gic);
            int addrGroup = KvmUapi.KVM_DEV_ARM_VGIC_GRP_ADDR();
            gic.setAttributeU64(addrGroup, KvmUapi.KVM_VGIC_V3_ADDR_TYPE_DIST(), layout.gicDist().base(), "DIST");
            gic.setAttributeU64(addrGroup, KvmUapi.KVM_VGIC_V3_ADDR_TYPE_REDIST(), layout.gicRedist().base(), "REDIST");

            List<Vcpu> vcpus = new ArrayList<>();
            int target = vm.preferredTarget();
            for (int i = 0; i < config.cpus(); i++) {
                Vcpu v = vm.createVcpu(i);
                undo.add(v);
                vcpus.add(v);
                initVcpu(v, target);
            }
            gic.setAttributeU64(KvmUapi.KVM_DEV_ARM_VGIC_GRP_NR_IRQS(), 0, Layout.GIC_NR_IRQS, "NR_IRQS");
            gic.setAttribute(KvmUapi.KVM_DEV_ARM_VGIC_GRP_CTRL(), KvmUapi.KVM_DEV_ARM_VGIC_CTRL_INIT(), "CTRL_INIT");

            IrqLine uartIrq = high -> vm.irqLine(spi(Layout.UART_INTID), high);
            // with a virtio console the UART stays (kernels and DTs expect it) but is not connected
            Uart8250Device uart = new Uart8250Device(uartIrq, virtio.consoleOnVirtio() ? OutputStream.nullOutputStream() : console);
            MmioBus bus = new MmioBus();
            bus.register(Layout.UART_BASE, Layout.UART_SIZE, uart, "ttyS0");

            GuestMemory mem = new SegmentGuestMemory(layout.ramBase(), ram);
            VirtioDevices wired = VirtioDevices.wire(devices, layout, bus, mem, NotificationRouting.of(vm));
            undo.add(wired);
            extraNodes = wired.deviceTreeNodes();
            List<Long> mpidrs = vcpus.stream().map(v -> v.getOneReg(RegIds.MPIDR_EL1)).toList();
            PsciVersion psci = PsciVersion.fromKvmRegister(vcpus.get(0).getOneReg(RegIds.PSCI_VERSION));
            Runnable loadImages = () -> loadAndPoint(mem, vcpus.get(0), mpidrs, psci);
            loadImages.run();

            ExitDispatcher dispatcher = new ExitDispatcher(bus, ExitDispatcher.notSupported(RegIds.x(0)),
                    config.onReset());
            Machine m = new Machine(kvm, vm, ram, gic, vcpus, uart, wired, dispatcher, config, () -> {
                wired.reset();   // before the images are reloaded: no device may write into the old rings
                for (Vcpu v : vcpus) initVcpu(v, target);
                loadImages.run();
            });
            holder.machine = m;
            return m;
        } catch (RuntimeException e) {
            for (int i = undo.size() - 1; i >= 0; i--) {
                try {
                    undo.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** PSCI 0.2 for every vCPU; secondaries start powered off and are started by the guest with CPU_ON. */
    private static void initVcpu(Vcpu v, int target) {
        if (v.id() == 0) v.init(target, Vcpu.FEATURE_PSCI_0_2);
        else v.init(target, Vcpu.FEATURE_PSCI_0_2, Vcpu.FEATURE_POWER_OFF);
    }

    /** Loads kernel, initrd and a fresh DTB, and points the boot vCPU at the kernel (x0 = DTB). */
    private void loadAndPoint(GuestMemory mem, Vcpu boot, List<Long> mpidrs, PsciVersion psci) {
        try {
            BootPlacement p = KernelLoader.load(mem, images);
            DeviceTreeInput in = DeviceTreeInput.of(layout, mpidrs.stream()
                    .map(m -> m & DeviceTreeInput.MPIDR_AFFINITY_MASK).toList(), psci, config.cmdline());
            if (p.hasInitrd()) in = in.withInitrd(p.initrdStart(), p.initrdEnd());
            in = in.withExtraNodes(extraNodes);
            dtb = new DeviceTreeBuilder().build(in);
            KernelLoader.writeDtb(mem, p, dtb);
            boot.setOneReg(RegIds.PC, p.entryPoint());
            boot.setOneReg(RegIds.x(0), p.dtbAddress());
            for (int r = 1; r <= 3; r++) boot.setOneReg(RegIds.x(r), 0);
        } catch (BootImageException e) {
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
