package dev.jvmm.cli;

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

    static boolean isDenial(Throwable t) {
        for (int depth = 0; t != null && depth < 32; t = t.getCause(), depth++) {
            if (t instanceof IllegalCallerException) return true;
        }
        return false;
    }
}
