package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.arch.aarch64.CpuFeatures;
import dev.jvmm.core.firmware.BitmapRegister;
import dev.jvmm.core.firmware.FirmwareConfig;
import dev.jvmm.core.firmware.GuestFirmware;
import dev.jvmm.core.firmware.HostFirmware;
import dev.jvmm.core.firmware.HypercallSelection;
import dev.jvmm.core.hypercall.FunctionRange;
import dev.jvmm.core.hypercall.HypercallConfig;
import dev.jvmm.core.hypercall.ImplCpu;
import dev.jvmm.core.hypercall.sdei.SdeiEventSpec;
import dev.jvmm.core.snapshot.GuestDefinition;
import dev.jvmm.core.snapshot.SnapshotException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest definition a snapshot saves: it rebuilds the same configuration, pins the firmware to
 * what the guest had, and refuses a disk that is no longer the file the guest knew.
 */
class SavedConfigTest {
    @TempDir Path tmp;

    private static final HostFirmware HOST =
            new HostFirmware(
                    PsciVersion.V1_1,
                    Map.of(
                            BitmapRegister.STD, 1L,
                            BitmapRegister.STD_HYP, 1L,
                            BitmapRegister.VENDOR_HYP, 3L,
                            BitmapRegister.VENDOR_HYP_2, 0L),
                    true);

    private GuestDefinition saved(VirtioConfig devices) {
        VmConfig c =
                new VmConfig(
                        "console=ttyS0 quiet",
                        2,
                        512L << 20,
                        VmConfig.OnReset.EXIT,
                        null,
                        OutputStream.nullOutputStream(),
                        new FirmwareConfig(
                                HypercallSelection.parse("-ptp"), true, PsciVersion.V1_0),
                        false,
                        new HypercallConfig(
                                true,
                                List.of(SdeiEventSpec.parse("100,private,normal")),
                                List.of(FunctionRange.parse("0xC4000020-0xC400003F")),
                                false),
                        new CpuFeatures(CpuFeatures.Irqchip.GICV3_ITS, true, true, false, false));
        GuestFirmware fw = GuestFirmware.decide(c.firmware(), HOST, w -> {});
        return SavedConfig.of(c, devices, fw);
    }

    @Test
    void theSavedDefinitionRebuildsTheSameGuest() {
        GuestDefinition g = saved(VirtioConfig.NONE);
        assertEquals("1.0", g.psci());
        assertEquals(1L, g.bitmaps().get("VENDOR_HYP_BMAP"), "-ptp as decided, not as asked");
        VmConfig back =
                SavedConfig.toConfig(
                        g,
                        VmConfig.OnReset.REBOOT,
                        Duration.ofSeconds(3),
                        OutputStream.nullOutputStream(),
                        true);
        assertEquals(2, back.cpus());
        assertEquals(512L << 20, back.memoryBytes());
        assertEquals("console=ttyS0 quiet", back.cmdline());
        assertEquals(
                new CpuFeatures(CpuFeatures.Irqchip.GICV3_ITS, true, true, false, false),
                back.cpu());
        assertEquals(
                List.of(SdeiEventSpec.parse("100,private,normal")), back.hypercalls().sdeiEvents());
        assertEquals(
                List.of(FunctionRange.parse("0xC4000020-0xC400003F")), back.hypercalls().deny());
        assertTrue(back.memLock(), "--mem-lock on the destination applies");
        assertEquals(VmConfig.OnReset.REBOOT, back.onReset());

        GuestFirmware pinned = SavedConfig.firmware(g, HOST);
        assertEquals(PsciVersion.V1_0, pinned.psci());
        assertEquals(Optional.of(PsciVersion.V1_0), pinned.psciWrite());
        assertEquals(Map.of(BitmapRegister.VENDOR_HYP, 1L), pinned.bitmaps().changed());
        assertTrue(pinned.pvTime());
    }

    /**
     * --impl-cpu travels: the list comes back in order, the bits it set are pinned, and a snapshot
     * written before the field existed reads as no list.
     */
    @Test
    void theImplCpuListTravelsAndOlderSnapshotsHaveNone() {
        List<ImplCpu> cpus =
                List.of(
                        ImplCpu.parse("midr=0x410fd083,revidr=1,aidr=0x551"),
                        ImplCpu.parse("midr=0x413fd0c1"));
        HypercallConfig h = new HypercallConfig(false, List.of(), List.of(), false, cpus);
        VmConfig c =
                new VmConfig(
                                "",
                                1,
                                64L << 20,
                                VmConfig.OnReset.EXIT,
                                null,
                                OutputStream.nullOutputStream(),
                                FirmwareConfig.DEFAULT,
                                false,
                                h)
                        .withCpu(CpuFeatures.DEFAULT.withIrqchip(CpuFeatures.Irqchip.GICV3));
        GuestFirmware fw =
                GuestFirmware.decide(c.firmware(), HOST, VmBuilder.vmmServed(h), w -> {});
        GuestDefinition g = SavedConfig.of(c, VirtioConfig.NONE, fw);
        assertEquals(
                List.of(
                        "midr=0x410fd083,revidr=0x1,aidr=0x551",
                        "midr=0x413fd0c1,revidr=0x0,aidr=0x0"),
                g.implCpus());
        assertEquals(3L, g.bitmaps().get("VENDOR_HYP_BMAP_2"));
        VmConfig back =
                SavedConfig.toConfig(
                        g, VmConfig.OnReset.EXIT, null, OutputStream.nullOutputStream(), false);
        assertEquals(cpus, back.hypercalls().implCpus());
        assertEquals(
                Map.of(BitmapRegister.VENDOR_HYP_2, 3L),
                SavedConfig.firmware(g, HOST).bitmaps().changed());

        GuestDefinition older =
                new GuestDefinition(
                        g.cpus(),
                        g.memoryBytes(),
                        g.cmdline(),
                        g.irqchip(),
                        g.pmu(),
                        g.sve(),
                        g.ptrauth(),
                        g.psci(),
                        Map.of(),
                        g.pvTime(),
                        g.sdei(),
                        g.sdeiEvents(),
                        g.smcccDeny(),
                        g.sharedRegions(),
                        null,
                        g.disks(),
                        g.nets(),
                        g.rng(),
                        g.virtioConsole(),
                        g.memLock());
        assertEquals(
                List.of(),
                SavedConfig.toConfig(
                                older,
                                VmConfig.OnReset.EXIT,
                                null,
                                OutputStream.nullOutputStream(),
                                false)
                        .hypercalls()
                        .implCpus());
    }

    /** A snapshot names the interrupt controller that was built; AUTO in one is garbage. */
    @Test
    void anUndecidedIrqchipInASnapshotIsRefused() {
        VmConfig undecided =
                new VmConfig(
                        "",
                        1,
                        64L << 20,
                        VmConfig.OnReset.EXIT,
                        null,
                        OutputStream.nullOutputStream(),
                        FirmwareConfig.DEFAULT,
                        false);
        GuestDefinition g =
                SavedConfig.of(
                        undecided,
                        VirtioConfig.NONE,
                        GuestFirmware.decide(undecided.firmware(), HOST, w -> {}));
        assertEquals("AUTO", g.irqchip());
        String msg =
                assertThrows(
                                SnapshotException.class,
                                () ->
                                        SavedConfig.toConfig(
                                                g,
                                                VmConfig.OnReset.EXIT,
                                                null,
                                                OutputStream.nullOutputStream(),
                                                false))
                        .getMessage();
        assertTrue(msg.endsWith("irqchip AUTO is never saved"), msg);
    }

    @Test
    void aDiskIsReattachedOnlyWhileItIsTheSameFile() throws IOException {
        Path disk = Files.write(tmp.resolve("disk.img"), new byte[8192]);
        GuestDefinition g =
                saved(
                        new VirtioConfig(
                                List.of(new DiskConfig(disk, false)), List.of(), true, false));
        assertEquals(8192, g.disks().get(0).size());
        assertEquals(1, SavedConfig.toVirtio(g).disks().size());

        Files.setLastModifiedTime(
                disk, FileTime.fromMillis(Files.getLastModifiedTime(disk).toMillis() + 5000));
        assertEquals(
                "cannot restore: disk "
                        + disk
                        + " was modified since the snapshot; the guest's view of it would be wrong",
                assertThrows(SnapshotException.class, () -> SavedConfig.toVirtio(g)).getMessage());

        Files.write(disk, new byte[4096]);
        assertEquals(
                "cannot restore: disk "
                        + disk
                        + " changed size (8192 -> 4096 bytes) since the snapshot; the guest's view of it would be wrong",
                assertThrows(SnapshotException.class, () -> SavedConfig.toVirtio(g)).getMessage());

        Files.delete(disk);
        Files.write(disk, new byte[8192]); // a new file (inode) with the old size
        String msg =
                assertThrows(RuntimeException.class, () -> SavedConfig.toVirtio(g)).getMessage();
        assertTrue(msg.startsWith("cannot restore: disk " + disk + " "), msg);
    }
}
