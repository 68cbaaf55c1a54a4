package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.boot.KernelLoader;
import dev.jvmm.core.firmware.FirmwareConfig;
import dev.jvmm.core.firmware.FirmwarePort;
import dev.jvmm.core.firmware.HypercallSelection;
import dev.jvmm.core.firmware.StolenTimeRecords;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.Vcpu;
import dev.jvmm.kvm.testing.A64;
import dev.jvmm.kvm.testing.KvmTest;
import dev.jvmm.kvm.uapi.KvmUapi;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VmBuilder's firmware step on real KVM (kvm tier): everything is in place before the run, nothing
 * after.
 */
@KvmTest
class MachineFirmwareKvmTest {
    private static final long MIB = 1 << 20;
    private static final int PVTIME = KvmUapi.KVM_ARM_VCPU_PVTIME_CTRL();
    private static final long IPA = KvmUapi.KVM_ARM_VCPU_PVTIME_IPA();

    @TempDir Path dir;

    /** An arm64 Image whose code powers the VM off at once (PSCI SYSTEM_OFF). */
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

    private Machine build(FirmwareConfig fw) throws Exception {
        VmConfig cfg =
                new VmConfig(
                        "console=ttyS0",
                        2,
                        64 * MIB,
                        VmConfig.OnReset.EXIT,
                        Duration.ofSeconds(60),
                        OutputStream.nullOutputStream(),
                        fw,
                        false);
        return new VmBuilder(
                        cfg,
                        KernelLoader.prepare(
                                powerOffImage(),
                                null,
                                cfg.cmdline(),
                                Layout.RAM_BASE,
                                cfg.memoryBytes()))
                .build();
    }

    @Test
    void firmwareIsCompleteBeforeTheRunAndSealedFromIt() throws Exception {
        try (Machine m =
                build(
                        new FirmwareConfig(
                                HypercallSelection.parse("-ptp"), true, PsciVersion.V1_0))) {
            assertFalse(m.firmwareSetup().isSealed());
            for (Vcpu v : m.vcpus()) {
                assertEquals(
                        Layout.PVTIME_BASE + 64L * v.id(),
                        v.getAttributeU64(PVTIME, IPA, "PVTIME_IPA"));
                assertEquals(
                        0x1L,
                        v.getOneReg(RegIds.VENDOR_HYP_BMAP),
                        "VM-wide: seen from vCPU " + v.id());
                assertEquals(0x10000L, v.getOneReg(RegIds.PSCI_VERSION));
            }
            assertEquals(PsciVersion.V1_0, m.firmware().psci());
            StolenTimeRecords st = m.stolenTime().orElseThrow();
            assertEquals(2, st.cpus());
            assertEquals(Layout.PVTIME_BASE + 64, st.address(1));

            VmResult r = m.run();
            assertEquals(VmResult.Reason.POWEROFF, r.reason(), r.detail());
            assertTrue(m.firmwareSetup().isSealed());
            var e =
                    assertThrows(
                            IllegalStateException.class,
                            () ->
                                    m.firmwareSetup()
                                            .setPvTimeIpa(
                                                    FirmwarePort.of(m.vcpus().get(0)),
                                                    Layout.PVTIME_BASE));
            assertTrue(
                    e.getMessage().startsWith("guest firmware is fixed once a vCPU has run"),
                    e.getMessage());
            assertEquals(2, st.stolenNanos().length);
        }
    }

    @Test
    void noPvtimeLeavesNoRecordsAndTheServiceHidden() throws Exception {
        try (Machine m = build(new FirmwareConfig(HypercallSelection.ALL, false, null))) {
            assertEquals(Optional.empty(), m.stolenTime());
            assertFalse(m.firmware().pvTime());
            for (Vcpu v : m.vcpus()) {
                assertEquals(
                        -1L,
                        v.getAttributeU64(PVTIME, IPA, "PVTIME_IPA"),
                        "no IPA: KVM reports INVALID_GPA");
                assertEquals(0x0L, v.getOneReg(RegIds.STD_HYP_BMAP));
                assertEquals(0x1L, v.getOneReg(RegIds.STD_BMAP));
                assertEquals(0x3L, v.getOneReg(RegIds.VENDOR_HYP_BMAP));
            }
            assertEquals(VmResult.Reason.POWEROFF, m.run().reason());
        }
    }
}
