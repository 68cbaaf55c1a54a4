package dev.jvmm.core.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostPmuTest {
    @Test
    void cpuListsParseAndFormatAsTheKernelWritesThem() {
        BitSet s = HostPmu.parseCpuList("0-3,6,8-9\n");
        assertEquals("0-3,6,8-9", HostPmu.cpuList(s));
        assertEquals(7, s.cardinality());
        assertEquals("", HostPmu.cpuList(HostPmu.parseCpuList("")));
        assertEquals("5", HostPmu.cpuList(HostPmu.parseCpuList(" 5 ")));
        for (String bad : List.of("a", "3-1", "1,,2", "-1", "1-", "0-70000"))
            assertThrows(IllegalArgumentException.class, () -> HostPmu.parseCpuList(bad), bad);
    }

    private static void source(Path root, String name, String type, String cpus)
            throws IOException {
        Path d = Files.createDirectories(root.resolve(name));
        Files.writeString(d.resolve("type"), type + "\n");
        if (cpus != null) Files.writeString(d.resolve("cpus"), cpus + "\n");
    }

    /**
     * Only arm_pmu's event sources have a cpus file: software, tracepoints, SPE and the like not.
     */
    @Test
    void readListsTheCpuPmusByNameWithTypeAndCpus(@TempDir Path root) throws IOException {
        source(root, "software", "1", null);
        source(root, "armv8_cortex_a72", "9", "4-5");
        source(root, "armv8_cortex_a53", "8", "0-3");
        source(root, "tracepoint", "2", null);
        source(root, "broken", "x", "0");
        List<HostPmu> pmus = HostPmu.read(root);
        assertEquals(
                List.of(
                        "armv8_cortex_a53 (type 8, CPUs 0-3)",
                        "armv8_cortex_a72 (type 9, CPUs 4-5)"),
                pmus.stream().map(HostPmu::describe).toList());
        assertEquals(List.of(), HostPmu.read(root.resolve("no-such-dir")));
    }

    @Test
    void cpusAreCopiedInAndOut() {
        BitSet cpus = HostPmu.parseCpuList("0-1");
        HostPmu p = new HostPmu("armv8_pmuv3", 10, cpus);
        cpus.set(5);
        p.cpus().set(6);
        assertEquals("0-1", HostPmu.cpuList(p.cpus()));
    }
}
