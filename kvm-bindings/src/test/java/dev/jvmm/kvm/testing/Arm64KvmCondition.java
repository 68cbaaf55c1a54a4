package dev.jvmm.kvm.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Enables kvm/boot-tier tests only where they can run, and forbids skipping where they must. */
public final class Arm64KvmCondition implements ExecutionCondition {
    /**
     * Set by ./lab test and on native arm64 runs of the test command: skipping is then a failure.
     */
    public static final String REQUIRE_ENV = "JVMM_REQUIRE_KVM";

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if ("1".equals(System.getenv(REQUIRE_ENV))) {
            return ConditionEvaluationResult.enabled(REQUIRE_ENV + "=1: must run");
        }
        String why = unavailableReason();
        return why == null
                ? ConditionEvaluationResult.enabled("arm64 /dev/kvm present")
                : ConditionEvaluationResult.disabled(
                        why + "; these tests run inside the arm64 lab: ./lab test");
    }

    /** Null when this host has a usable arm64 /dev/kvm, else why not. */
    public static String unavailableReason() {
        String arch = System.getProperty("os.arch");
        if (!"aarch64".equals(arch)) return "needs arm64 KVM, this host is " + arch;
        Path kvm = Path.of("/dev/kvm");
        if (!Files.exists(kvm)) return "needs arm64 KVM, /dev/kvm does not exist";
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm))
            return "needs arm64 KVM, /dev/kvm is not read-writable";
        return null;
    }

    /**
     * The guest images directory from JVMM_IMAGES (set by ./lab); fails loudly when a boot test
     * lacks it.
     */
    public static Path images() {
        String dir = System.getenv("JVMM_IMAGES");
        if (dir == null || !Files.isDirectory(Path.of(dir))) {
            throw new IllegalStateException(
                    "JVMM_IMAGES is not set to the guest images directory (./lab sets it)");
        }
        return Path.of(dir);
    }
}
