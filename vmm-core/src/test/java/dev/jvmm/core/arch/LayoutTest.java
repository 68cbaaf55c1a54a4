package dev.jvmm.core.arch;

import static dev.jvmm.core.arch.Layout.GIB;
import static dev.jvmm.core.arch.Layout.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.arch.Layout.Region;
import dev.jvmm.core.boot.BootPlacement;
import dev.jvmm.core.boot.KernelImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayoutTest {

    @Test
    void addressesMatchKvmtool() {
        // values from kvmtool arm/include/arm-common/kvm-arch.h and hw/serial.c, virtio/mmio.c
        assertEquals(0x8000_0000L, Layout.RAM_BASE);
        assertEquals(0x0100_0000L, Layout.UART_BASE);
        assertEquals(0x0101_0000L, Layout.RTC_BASE);
        assertEquals(0x0102_0000L, Layout.PVTIME_BASE);
        assertEquals(0x0300_0000L, Layout.VIRTIO_MMIO_BASE);
        assertEquals(0x200, Layout.VIRTIO_MMIO_SLOT_SIZE);
        assertEquals(0x3fff_0000L, Layout.GIC_DIST_BASE);
        assertEquals(32, Layout.UART_INTID);
        Layout l = new Layout(2 * GIB, 4);
        assertEquals(
                new Region("gic-redist", 0x3fff_0000L - 4 * 0x2_0000L, 4 * 0x2_0000L),
                l.gicRedist());
        assertEquals(0x3ff7_0000L, l.gicRedist().base());
    }

    @Test
    void regionsAreSortedAndDisjointForEveryCpuCount() {
        for (int cpus = 1; cpus <= Layout.MAX_VCPUS; cpus++) {
            List<Region> r = new Layout(Layout.MAX_RAM_BYTES, cpus).regions();
            for (int i = 1; i < r.size(); i++) {
                assertTrue(
                        r.get(i - 1).end() <= r.get(i).base(),
                        cpus + " vCPUs: " + r.get(i - 1) + " vs " + r.get(i));
            }
            assertTrue(r.get(r.size() - 1).end() <= 1L << Layout.MAX_IPA_BITS);
        }
        assertEquals(
                Layout.GIC_REDIST_FLOOR, new Layout(16 * MIB, Layout.MAX_VCPUS).gicRedist().base());
    }

    @Test
    void itsFrameSitsDirectlyBelowTheRedistributorsAsInKvmtool() {
        // kvmtool arm/gic.c: gic_msi_base = gic_redists_base - KVM_VGIC_V3_ITS_SIZE (128 KiB)
        Layout one = new Layout(64 * MIB, 1);
        assertEquals(new Region("gic-its", 0x3ffb_0000L, 0x2_0000L), one.gicIts());
        assertEquals(one.gicRedist().base(), one.gicIts().end());
        assertEquals(0x3ff5_0000L, new Layout(64 * MIB, 4).gicIts().base());
        Layout max = new Layout(64 * MIB, Layout.MAX_VCPUS);
        assertEquals(Layout.GIC_REDIST_FLOOR - Layout.GIC_ITS_SIZE, max.gicIts().base());
        assertEquals(Layout.VIRTIO_MMIO_END, max.gicIts().base(), "the virtio window ends there");
        for (int cpus : new int[] {1, 2, 3, 7, 64, Layout.MAX_VCPUS}) {
            Region its = new Layout(64 * MIB, cpus).gicIts();
            assertEquals(0, its.base() % 0x1_0000L, cpus + " vCPUs: KVM wants 64 KiB alignment");
            assertFalse(its.overlaps(new Layout(64 * MIB, cpus).virtioWindow()), its.toString());
        }
        assertEquals("gic-its", one.regionAt(0x3ffb_0000L + Layout.GITS_TRANSLATER_OFFSET).name());
    }

    @Test
    void virtioSlotsAndLinesFollowRegistrationOrder() {
        Layout l = new Layout(256 * MIB, 1);
        assertEquals(new Region("virtio-mmio.0", 0x300_0000L, 0x200), l.virtioSlot(0));
        assertEquals(0x300_0200L, l.virtioSlot(1).base());
        assertEquals(36, l.virtioIntid(0));
        assertEquals(37, l.virtioIntid(1));
        int last = Layout.MAX_VIRTIO_DEVICES - 1;
        assertEquals(Layout.GIC_NR_IRQS - 1, l.virtioIntid(last));
        assertTrue(
                l.virtioWindow().contains(l.virtioSlot(last).base(), Layout.VIRTIO_MMIO_SLOT_SIZE));
        assertThrows(
                IndexOutOfBoundsException.class, () -> l.virtioSlot(Layout.MAX_VIRTIO_DEVICES));
        assertThrows(IndexOutOfBoundsException.class, () -> l.virtioIntid(-1));
    }

    @Test
    void interruptNumbersForTheDeviceTree() {
        assertEquals(0, Layout.spiNumber(Layout.UART_INTID));
        assertEquals(4, Layout.spiNumber(Layout.VIRTIO_FIRST_INTID));
        assertEquals(Layout.TIMER_PPI_VIRT, Layout.ppiNumber(27)); // KVM's default vtimer INTID
        assertEquals(
                Layout.TIMER_PPI_NONSECURE_PHYS,
                Layout.ppiNumber(30)); // KVM's default ptimer INTID
        assertThrows(IllegalArgumentException.class, () -> Layout.spiNumber(27));
        assertThrows(IllegalArgumentException.class, () -> Layout.ppiNumber(32));
    }

    @Test
    void rtcHasItsOwnWindowAndALineNoOtherDeviceUses() {
        Layout l = new Layout(64 * MIB, 1);
        Region slot = l.regionAt(Layout.RTC_BASE);
        assertEquals("rtc", slot.name());
        assertTrue(slot.contains(l.rtc().base(), l.rtc().size()), "inside the reserved slot");
        assertEquals(0x1000, l.rtc().size());
        assertTrue(Layout.RTC_INTID >= Layout.SPI_BASE && Layout.RTC_INTID < Layout.GIC_NR_IRQS);
        assertTrue(Layout.RTC_INTID != Layout.UART_INTID);
        for (int i = 0; i < Layout.MAX_VIRTIO_DEVICES; i++)
            assertTrue(l.virtioIntid(i) != Layout.RTC_INTID, "virtio device " + i);
    }

    @Test
    void pvTimeStructuresAre64BytesApart() {
        Layout l = new Layout(64 * MIB, 8);
        assertEquals(0x102_0000L, l.pvTimeAddress(0));
        assertEquals(0x102_01c0L, l.pvTimeAddress(7));
        assertThrows(IndexOutOfBoundsException.class, () -> l.pvTimeAddress(8));
        assertTrue(Layout.MAX_VCPUS * Layout.PVTIME_STRUCT_SIZE <= Layout.PVTIME_SIZE);
    }

    @Test
    void ipaBitsCoverTheEndOfRam() {
        assertEquals(32, new Layout(2 * GIB, 1).ipaBits());
        assertEquals(33, new Layout(4 * GIB, 1).ipaBits());
        assertEquals(40, new Layout(Layout.MAX_RAM_BYTES, 1).ipaBits());
    }

    @Test
    void ramQueries() {
        Layout l = new Layout(2 * GIB, 1);
        assertTrue(l.isRam(0x8000_0000L, 2 * GIB));
        assertFalse(l.isRam(0x7fff_ffffL, 2));
        assertFalse(l.isRam(0xffff_fff0L, 0x20));
        assertEquals("uart", l.regionAt(0x100_0007L).name());
        assertNull(l.regionAt(0x100_0008L));
        assertEquals("gic-dist", l.regionAt(0x3fff_ffffL).name());
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> l.requireRam("initrd", 0x1000, 16));
        assertTrue(
                e.getMessage().contains("initrd [0x1000, +0x10) is not inside guest RAM"),
                e.getMessage());
    }

    @Test
    void badSizesAreRejectedWithAUsefulMessage() {
        var e = assertThrows(dev.jvmm.core.JvmmException.class, () -> new Layout(3 * MIB, 1));
        assertTrue(e.getMessage().contains("multiple of 2 MiB"), e.getMessage());
        assertEquals(dev.jvmm.core.JvmmException.Kind.USAGE, e.errorKind());
        assertThrows(dev.jvmm.core.JvmmException.class, () -> new Layout(8 * MIB, 1));
        assertThrows(
                dev.jvmm.core.JvmmException.class,
                () -> new Layout(Layout.MAX_RAM_BYTES + 2 * MIB, 1));
        e = assertThrows(dev.jvmm.core.JvmmException.class, () -> new Layout(64 * MIB, 513));
        assertTrue(e.getMessage().contains("between 1 and 512"), e.getMessage());
        assertThrows(dev.jvmm.core.JvmmException.class, () -> new Layout(64 * MIB, 0));
    }

    @Test
    void bootPlanStaysInRamAndOutOfTheDevices() throws Exception {
        byte[] img = new byte[4096];
        ByteBuffer h = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(16, 4 * MIB); // image_size, text_offset 0
        h.putInt(KernelImage.MAGIC_OFFSET, KernelImage.MAGIC);
        KernelImage k = KernelImage.parse(Path.of("Image"), img, 2 * GIB);
        Layout l = new Layout(512 * MIB, 2);
        BootPlacement p = l.planBoot(k, null);
        assertEquals(Layout.RAM_BASE, p.kernelLoad());
        l.requireRam("dtb", p.dtbAddress(), Layout.FDT_MAX_SIZE);
        assertEquals(0, p.dtbAddress() % (2 * MIB));
    }
}
