package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The caps table's format, without KVM (CapsKvmTest checks what a real host reports). */
class CapsCommandTest {
    @Test
    void cpuFeaturesPrintOneLineEachWithTheVectorLengthsInBits() {
        Map<String, Object> cpu = new LinkedHashMap<>();
        cpu.put("sve", true);
        cpu.put("sve_vector_lengths", List.of(128, 256, 512));
        cpu.put("ptrauth", true);
        cpu.put("mte", false);
        cpu.put("nothing", null);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("cpu_features", cpu);
        StringWriter s = new StringWriter();
        try (PrintWriter out = new PrintWriter(s)) {
            CapsCommand.printTable(out, "", root);
        }
        assertEquals(
                List.of(
                        String.format("%-38s %s", "cpu_features.sve", "yes"),
                        String.format("%-38s %s", "cpu_features.sve_vector_lengths", "128 256 512"),
                        String.format("%-38s %s", "cpu_features.ptrauth", "yes"),
                        String.format("%-38s %s", "cpu_features.mte", "no"),
                        String.format("%-38s %s", "cpu_features.nothing", "absent")),
                Arrays.asList(s.toString().split(System.lineSeparator())));
    }
}
