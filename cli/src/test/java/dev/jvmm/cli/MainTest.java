package dev.jvmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jvmm.kvm.testing.Arm64KvmCondition;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class MainTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void versionNamesJvmmAndTheRuntime() {
        Result r = run("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("jvmm "), r.out());
        assertTrue(r.out().contains("Java " + Runtime.version().feature()), r.out());
    }

    @Test
    void helpListsCommandsAndTheExitCodeContract() {
        Result r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("caps"));
        for (String code : new String[] {"32", "33", "34", "124", "128+N"}) {
            assertTrue(r.out().contains(code), "exit code " + code + " missing from --help");
        }
        assertTrue(run("caps", "--help").out().contains("Exit codes:"));
    }

    @Test
    void unknownOptionIsAUsageError() {
        Result r = run("caps", "--bogus");
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("--bogus"), r.err());
        assertFalse(
                r.err().strip().contains("\n"), "one line, not the whole usage text: " + r.err());
    }

    @Test
    void noCommandIsAUsageError() {
        assertEquals(ExitCodes.USAGE, run().code());
    }

    @Test
    void capsWithoutArm64KvmIsOneLineAndItsOwnCode() {
        assumeTrue(Arm64KvmCondition.unavailableReason() != null, "this host has arm64 KVM");
        Result r = run("caps");
        assertEquals(ExitCodes.KVM_UNAVAILABLE, r.code());
        assertEquals("", r.out());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), "one line: " + r.err());
        assertFalse(line.contains("Exception"), line);
        assertTrue(line.contains("./lab run -- jvmm"), "says what to do: " + line);
    }
}
