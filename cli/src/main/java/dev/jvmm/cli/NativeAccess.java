package dev.jvmm.cli;

import java.lang.foreign.ValueLayout;

/**
 * jvmm calls the kernel through the FFM API, a restricted one: a JVM started with {@code
 * --illegal-native-access=deny} and without {@code --enable-native-access} refuses the first call
 * (IllegalCallerException, often wrapped in a class-initialisation error). That is a launch problem
 * with a one-line fix, not a bug.
 */
final class NativeAccess {
    static final String MESSAGE =
            "this JVM denies native access, which jvmm needs to call the kernel (FFM API):"
                    + " start it with java --enable-native-access=ALL-UNNAMED -cp jvmm.jar dev.jvmm.cli.Main ..., or with"
                    + " java -jar jvmm.jar ... (its manifest enables it)";

    private NativeAccess() {}

    /**
     * Throws IllegalCallerException now if this JVM denies jvmm native access, so that a command
     * says so before it does anything else with the host (on any host: the arm64 check would
     * otherwise come first). One restricted call that does nothing else; a JVM that merely warns
     * prints its warning here, once, instead of at jvmm's first real native call.
     */
    static void require() {
        ValueLayout.ADDRESS.withTargetLayout(ValueLayout.JAVA_BYTE);
    }

    static boolean isDenial(Throwable t) {
        for (int depth = 0; t != null && depth < 32; t = t.getCause(), depth++) {
            if (t instanceof IllegalCallerException) return true;
        }
        return false;
    }
}
