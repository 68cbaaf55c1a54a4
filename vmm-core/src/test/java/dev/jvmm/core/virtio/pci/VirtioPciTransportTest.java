package dev.jvmm.core.virtio.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.core.memory.SegmentGuestMemory;
import dev.jvmm.core.pci.PciHeader;
import dev.jvmm.core.virtio.Virtio;
import dev.jvmm.core.virtio.VirtioActivation;
import dev.jvmm.core.virtio.VirtioDevice;
import dev.jvmm.core.virtio.VirtioError;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * virtio-pci's own surface: the PCI identity and vendor capabilities a driver finds the structures
 * by, the ISR, INTx-disable and the common configuration's access widths. What it shares with
 * virtio-mmio is in VirtioTransportContractTest.
 */
class VirtioPciTransportTest {
    private final SegmentGuestMemory mem = SegmentGuestMemory.onHeap(0x8000_0000L, 1 << 20);
    private final AtomicInteger irqs = new AtomicInteger();

    /** A 3-queue device of type 2 (block) with 12 bytes of config. */
    private static final class Dev implements VirtioDevice {
        final int configSize;
        VirtioActivation activation;

        Dev(int configSize) {
            this.configSize = configSize;
        }

        @Override
        public int deviceType() {
            return Virtio.ID_BLOCK;
        }

        @Override
        public long deviceFeatures() {
            return 0;
        }

        @Override
        public int queueCount() {
            return 3;
        }

        @Override
        public int maxQueueSize() {
            return 256;
        }

        @Override
        public int configSize() {
            return configSize;
        }

        @Override
        public void readConfig(int offset, byte[] data) {
            for (int i = 0; i < data.length; i++) data[i] = (byte) (offset + i);
        }

        @Override
        public void activate(VirtioActivation a) {
            activation = a;
        }

        @Override
        public void queueNotify(int queue) {}

        @Override
        public void reset() {}

        @Override
        public void close() {}
    }

    private final Dev dev = new Dev(12);
    private final VirtioPciTransport t = new VirtioPciTransport(dev, mem, irqs::incrementAndGet);

    private long bar(int off, int len) {
        byte[] d = new byte[len];
        t.bar().read(off, d);
        long v = 0;
        for (int i = 0; i < len; i++) v |= (d[i] & 0xffL) << (8 * i);
        return v;
    }

    private void bar(int off, int len, long v) {
        byte[] d = new byte[len];
        for (int i = 0; i < len; i++) d[i] = (byte) (v >>> (8 * i));
        t.bar().write(off, d);
    }

    private int cfg(int off, int size) {
        return t.header().configRead(off, size);
    }

    @Test
    void identityIsAModernVirtioBlockFunctionWithInta() {
        assertEquals(0x1af4, cfg(0x00, 2));
        assertEquals(0x1042, cfg(0x02, 2), "0x1040 + device type 2");
        assertEquals(1, cfg(0x08, 1), "revision 1: modern only");
        assertEquals(0x018000, cfg(0x09, 1) | cfg(0x0a, 2) << 8, "mass storage, other");
        assertEquals(0, cfg(0x0e, 1), "type-0 header");
        assertEquals(0x1af4, cfg(0x2c, 2));
        assertEquals(2, cfg(0x2e, 2));
        assertEquals(1, cfg(0x3d, 1), "INTA#");
        assertEquals(0x10, cfg(0x06, 2) & 0x10, "capability list present");
    }

    /** Walks the list as Linux's virtio_pci_find_capability does. */
    private Map<Integer, int[]> capabilities() {
        Map<Integer, int[]> caps = new HashMap<>();
        int pos = cfg(0x34, 1);
        for (int n = 0; pos != 0 && n < 48; n++) {
            assertEquals(0, pos & 3, "dword-aligned");
            assertEquals(0x09, cfg(pos, 1), "vendor-specific");
            int type = cfg(pos + 3, 1);
            caps.put(
                    type,
                    new int[] {
                        cfg(pos + 4, 1),
                        cfg(pos + 8, 4),
                        cfg(pos + 12, 4),
                        cfg(pos + 2, 1),
                        type == 2 ? cfg(pos + 16, 4) : -1
                    });
            pos = cfg(pos + 1, 1);
        }
        assertEquals(0, pos, "the list ends");
        return caps;
    }

    @Test
    void capabilitiesPointIntoBar0() {
        Map<Integer, int[]> caps = capabilities();
        assertEquals(4, caps.size());
        for (int[] c : caps.values()) assertEquals(0, c[0], "BAR0");
        assertEquals(0x0000, caps.get(1)[1]);
        assertTrue(caps.get(1)[2] >= 0x38, "the whole virtio 1.1 common configuration");
        assertEquals(0x3000, caps.get(2)[1]);
        assertEquals(3 * 4, caps.get(2)[2], "one notify address per queue");
        assertEquals(20, caps.get(2)[3], "the notify capability carries a multiplier");
        assertEquals(4, caps.get(2)[4]);
        assertEquals(0x1000, caps.get(3)[1]);
        assertEquals(0x2000, caps.get(4)[1]);
        assertEquals(12, caps.get(4)[2], "the device's config size");
        for (int[] c : caps.values())
            assertTrue(c[1] + c[2] <= VirtioPciLayout.BAR_SIZE, "inside the BAR");
    }

    @Test
    void aDeviceWithoutConfigSpaceHasNoDeviceCapability() {
        VirtioPciTransport rng = new VirtioPciTransport(new Dev(0), mem, () -> {});
        int pos = rng.header().configRead(0x34, 1);
        int count = 0;
        while (pos != 0) {
            assertTrue(rng.header().configRead(pos + 3, 1) != 4);
            pos = rng.header().configRead(pos + 1, 1);
            count++;
        }
        assertEquals(3, count);
    }

    @Test
    void queueFieldsReadAsLinuxExpects() {
        assertEquals(3, bar(0x12, 2), "num_queues");
        bar(0x16, 2, 2);
        assertEquals(256, bar(0x18, 2), "queue_size reads the maximum until set");
        assertEquals(2, bar(0x1e, 2), "queue_notify_off is the index");
        assertEquals(0xffff, bar(0x1a, 2), "no MSI-X vector");
        assertEquals(0xffff, bar(0x10, 2));
        bar(0x16, 2, 3);
        assertEquals(0, bar(0x18, 2), "no such queue: size 0");
    }

    @Test
    void ringAddressesTakeTwoHalvesOrOneEightByteWrite() {
        bar(0x14, 1, 1);
        bar(0x14, 1, 3);
        bar(0x0c, 4, 0); // driver_feature_select 0 → low word
        bar(0x08, 4, 1);
        bar(0x0c, 4, 1); // VERSION_1
        bar(0x14, 1, 0xb);
        assertEquals(0xb, bar(0x14, 1));
        bar(0x20, 4, 0x8000_1000L);
        bar(0x24, 4, 0);
        bar(0x28, 8, 0x8000_2000L);
        assertEquals(0x8000_1000L, bar(0x20, 8));
        assertEquals(0x8000_2000L, bar(0x28, 4));
        assertEquals(0, bar(0x2c, 4));
    }

    @Test
    void wrongWidthsAndUnknownOffsetsReadZeroWriteNothingAndAreCounted() {
        bar(0x14, 1, 1);
        assertEquals(0, bar(0x14, 2), "status is one byte");
        bar(0x14, 4, 0); // would be a reset
        assertEquals(1, bar(0x14, 1));
        assertEquals(0, bar(0x12, 4), "num_queues is two bytes");
        bar(0x12, 2, 9); // read-only
        assertEquals(3, bar(0x12, 2));
        assertEquals(0, bar(0x38, 4), "past the common configuration");
        assertEquals(0, bar(0x1001, 1), "past the ISR byte");
        assertEquals(0, bar(0x1000, 4), "the ISR is read a byte at a time");
        bar(0x3002, 2, 0); // between two notify addresses
        bar(0x3000, 1, 0); // too narrow
        assertEquals(
                9,
                t.core().errorCounter().count(VirtioError.REGISTER_ACCESS),
                t.core().errorCounter().toString());
    }

    @Test
    void isrReadClearsAndIntxDisableSilencesTheLine() {
        t.header().configWrite(PciHeader.COMMAND, 2, PciHeader.COMMAND_INTX_DISABLE);
        bar(0x14, 1, 1);
        bar(0x14, 1, 3);
        bar(0x08, 4, 1);
        bar(0x0c, 4, 1);
        bar(0x14, 1, 0xb);
        for (int q = 0; q < 3; q++) {
            bar(0x16, 2, q);
            bar(0x18, 2, 8);
            bar(0x20, 8, 0x8000_0000L + q * 0x1000L);
            bar(0x28, 8, 0x8000_0400L + q * 0x1000L);
            bar(0x30, 8, 0x8000_0800L + q * 0x1000L);
            bar(0x1c, 2, 1);
            assertEquals(1, bar(0x1c, 2));
        }
        bar(0x14, 1, 0xf);
        assertEquals(0xf, bar(0x14, 1));
        dev.activation.configChanged();
        assertEquals(0, irqs.get(), "INTx disabled");
        assertEquals(Virtio.INT_CONFIG_CHANGE, bar(0x1000, 1));
        assertEquals(0, bar(0x1000, 1), "a read clears the ISR");
        assertEquals(1, bar(0x15, 1), "config_generation moved");
        t.header().configWrite(PciHeader.COMMAND, 2, 0);
        dev.activation.configChanged();
        assertEquals(1, irqs.get());
    }

    @Test
    void resetTurnsDecodingOffAndClearsTheBar() {
        long[] moved = {0, 0};
        t.header().setBarListener((from, to) -> moved[0] = to);
        t.header().configWrite(PciHeader.BAR0, 4, 0x5000_0000);
        t.header().configWrite(PciHeader.COMMAND, 2, PciHeader.COMMAND_MEMORY);
        assertEquals(0x5000_0000L, moved[0]);
        t.reset();
        assertEquals(PciHeader.UNMAPPED, moved[0]);
        assertEquals(0, cfg(PciHeader.BAR0, 4));
        assertEquals(0, cfg(PciHeader.COMMAND, 2));
    }
}
