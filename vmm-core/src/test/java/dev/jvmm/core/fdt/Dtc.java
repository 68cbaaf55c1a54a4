package dev.jvmm.core.fdt;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the device tree compiler as an independent check of our bytes. A missing dtc fails the test
 * (never skips): a silently skipped cross-check is how a wrong blob reaches a guest.
 */
public final class Dtc {
    private Dtc() {}

    /** stdout, stderr and exit status of one dtc run. */
    @SuppressWarnings(
            "ArrayRecordComponent") // one run's output, read field by field, never compared
    public record Result(int exit, String out, String err, byte[] outBytes) {}

    /** Compiles DTS source to a blob; {@code extraArgs} e.g. {@code "-b", "1"}. Fails on errors. */
    public static byte[] compile(String dts, String... extraArgs) {
        List<String> args = new ArrayList<>(List.of("-I", "dts", "-O", "dtb"));
        args.addAll(List.of(extraArgs));
        Result r = run(dts.getBytes(StandardCharsets.UTF_8), args);
        if (r.exit() != 0) fail("dtc -I dts -O dtb failed (" + r.exit() + "): " + r.err());
        return r.outBytes();
    }

    /** Decompiles a blob to DTS; the caller checks exit status and warnings. */
    public static Result decompile(byte[] dtb) {
        return run(dtb, List.of("-I", "dtb", "-O", "dts"));
    }

    private static Result run(byte[] input, List<String> args) {
        Path in = null, out = null;
        try {
            in = Files.createTempFile("jvmm-dtc-in", ".bin");
            out = Files.createTempFile("jvmm-dtc-out", ".bin");
            Files.write(in, input);
            List<String> cmd = new ArrayList<>();
            cmd.add("dtc");
            cmd.addAll(args);
            cmd.addAll(List.of("-o", out.toString(), in.toString()));
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            } catch (IOException e) {
                fail(
                        "dtc not found ("
                                + e.getMessage()
                                + "): run scripts/setup-host.sh to install device-tree-compiler");
                return null;
            }
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("dtc did not finish within 30 s");
            }
            byte[] bytes = Files.readAllBytes(out);
            return new Result(p.exitValue(), new String(bytes, StandardCharsets.UTF_8), err, bytes);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            try {
                if (in != null) Files.deleteIfExists(in);
                if (out != null) Files.deleteIfExists(out);
            } catch (IOException ignored) {
                // temp files; nothing depends on their removal
            }
        }
    }
}
