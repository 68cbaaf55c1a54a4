package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.KvmHost;
import dev.jvmm.core.UnsupportedRequestException;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.aarch64.CpuFeatures;
import dev.jvmm.core.arch.aarch64.CpuFeatures.Irqchip;
import dev.jvmm.core.boot.KernelLoader;
import dev.jvmm.core.fdt.FdtTestReader;
import dev.jvmm.core.fdt.FdtTestReader.Node;
import dev.jvmm.core.firmware.FirmwareConfig;
import dev.jvmm.core.hypercall.HypercallConfig;
import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.KvmException;
import dev.jvmm.kvm.Vm;
import dev.jvmm.kvm.testing.A64;
import dev.jvmm.kvm.testing.KvmTest;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --irqchip on real KVM (kvm tier): what VmBuilder creates, places and describes, or refuses. */
@KvmTest
class IrqchipKvmTest {
    private static final long MIB = 1 << 20;
    private static final int DEVID = KvmUapi.KVM_MSI_VALID_DEVID();
    private static final int EBUSY = 16, ENODEV = 19, EINVAL = 22;

    private static int errno(org.junit.jupiter.api.function.Executable call) {
        return assertThrows(KvmException.class, call).errno();
    }

    @TempDir Path dir;

    /** An arm64 Image whose code powers the VM off at once (PSCI SYSTEM_OFF); never run here. */
    private Path powerOffImage() throws Exception {
        byte[] code = new A64().mov64(0, 0x84000008L).emit(A64.hvc(0)).emit(A64.b(0)).bytes();
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x14000010); // b +64: over the header to the code
        b.putLong(16, 4096); // image_size
        b.putLong(24, 0xA); // LE, 4K pages, anywhere in RAM
        b.putInt(0x38, 0x644d5241);
        b.put(64, code);
        return Files.write(dir.resolve("Image"), b.array());
    }

    private VmBuilder builder(Irqchip irqchip, int cpus) throws Exception {
        return builder(irqchip, cpus, VirtioConfig.NONE);
    }

    private VmBuilder builder(Irqchip irqchip, int cpus, VirtioConfig virtio) throws Exception {
        VmConfig cfg =
                new VmConfig(
                        "",
                        cpus,
                        64 * MIB,
                        VmConfig.OnReset.EXIT,
                        Duration.ofSeconds(60),
                        OutputStream.nullOutputStream(),
                        FirmwareConfig.DEFAULT,
                        false,
                        HypercallConfig.NONE,
                        new CpuFeatures(irqchip, false, true, true, false));
        return new VmBuilder(
                cfg,
                KernelLoader.prepare(powerOffImage(), null, "", Layout.RAM_BASE, cfg.memoryBytes()),
                virtio);
    }

    /**
     * kvmtool's automatic choice: an ITS only when virtio devices sit on PCI (and this KVM has one,
     * which the lab's does); the machine records what was chosen, never AUTO, so a snapshot saves
     * the real interrupt controller.
     */
    @Test
    void autoGivesAnItsExactlyWhenVirtioDevicesAreOnPci() throws Exception {
        boolean hostHasIts;
        try (Kvm kvm = KvmHost.openArm64();
                Vm vm = kvm.createVm(0)) {
            hostHasIts = vm.canCreateDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_ITS());
        }
        assertTrue(hostHasIts, "the lab's KVM has an ITS; on a host without one AUTO is gicv3");
        VirtioConfig rngOnPci =
                new VirtioConfig(
                        java.util.List.of(),
                        java.util.List.of(),
                        true,
                        false,
                        VirtioTransportKind.PCI);
        VirtioConfig rngOnMmio =
                new VirtioConfig(java.util.List.of(), java.util.List.of(), true, false);
        record Case(String what, VirtioConfig virtio, Irqchip asked, Irqchip built) {}
        for (Case c :
                java.util.List.of(
                        new Case("pci, auto", rngOnPci, Irqchip.AUTO, Irqchip.GICV3_ITS),
                        new Case("mmio, auto", rngOnMmio, Irqchip.AUTO, Irqchip.GICV3),
                        new Case(
                                "no devices, auto", VirtioConfig.NONE, Irqchip.AUTO, Irqchip.GICV3),
                        new Case("pci, gicv3 asked", rngOnPci, Irqchip.GICV3, Irqchip.GICV3))) {
            try (Machine m = builder(c.asked(), 1, c.virtio()).build()) {
                assertEquals(c.built(), m.config().cpu().irqchip(), c.what());
                assertEquals(c.built() == Irqchip.GICV3_ITS, m.its().isPresent(), c.what());
            }
        }
    }

    @Test
    void gicv3ItsPutsTheItsWhereTheDeviceTreeSaysItIs() throws Exception {
        VmBuilder b = builder(Irqchip.GICV3_ITS, 2);
        try (Machine m = b.build()) {
            Layout.Region frame = m.its().orElseThrow().frame();
            assertEquals(new Layout(64 * MIB, 2).gicIts(), frame);
            assertEquals(0x3ff9_0000L, frame.base(), "2 vCPUs: below 2 x 128 KiB redistributors");
            assertTrue(m.its().get().msiNeedsDeviceId());
            Node its =
                    FdtTestReader.parse(b.deviceTree())
                            .node("/intc@3fff0000/msi-controller@3ff90000");
            assertEquals("arm,gic-v3-its", its.string("compatible"));
            assertEquals(frame.base(), its.u64s("reg")[0]);
            // KVM agrees: at the doorbell is an ITS, not enabled yet by any guest (EBUSY); the
            // distributor is a GIC frame but no ITS (EINVAL)
            Vm vm = m.vm();
            long doorbell = frame.base() + Layout.GITS_TRANSLATER_OFFSET;
            assertEquals(EBUSY, errno(() -> vm.signalMsi(doorbell, 0, 0, DEVID)));
            assertEquals(EINVAL, errno(() -> vm.signalMsi(Layout.GIC_DIST_BASE, 0, 0, DEVID)));
        }
    }

    @Test
    void gicv3AloneHasNoItsNodeAndNoMsiTarget() throws Exception {
        VmBuilder b = builder(Irqchip.GICV3, 1);
        try (Machine m = b.build()) {
            assertFalse(m.its().isPresent());
            Node gic = FdtTestReader.parse(b.deviceTree()).node("/intc@3fff0000");
            assertEquals(0, gic.children().size());
            long doorbell = new Layout(64 * MIB, 1).gicIts().base() + Layout.GITS_TRANSLATER_OFFSET;
            assertEquals(ENODEV, errno(() -> m.vm().signalMsi(doorbell, 0, 0, DEVID)), "no ITS");
        }
    }

    /**
     * One line, naming the option and the way out; which reason depends on whether this KVM can
     * emulate a GICv2 at all, which the test asks KVM itself.
     */
    @Test
    void gicv2IsRefusedInOneLine() throws Exception {
        boolean canEmulate;
        try (Kvm kvm = KvmHost.openArm64();
                Vm vm = kvm.createVm(0)) {
            canEmulate = vm.canCreateDevice(KvmUapi.KVM_DEV_TYPE_ARM_VGIC_V2());
        }
        VmBuilder b = builder(Irqchip.GICV2, 1);
        UnsupportedRequestException e = assertThrows(UnsupportedRequestException.class, b::build);
        String msg = e.getMessage();
        assertTrue(msg.startsWith("--irqchip gicv2: "), msg);
        assertTrue(msg.endsWith("; use --irqchip gicv3"), msg);
        assertFalse(msg.contains("\n"), msg);
        assertEquals(
                canEmulate,
                msg.contains("jvmm builds GICv3 machines only"),
                "reason matches the host: " + msg);
        assertEquals(!canEmulate, msg.contains("cannot emulate a GICv2"), msg);
    }
}
