package dev.jvmm.cli;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.IGetter;
import picocli.CommandLine.Model.ISetter;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Picocli command models built in code, not read from annotations.
 *
 * <p>Why: reading an annotation by reflection makes the JDK define a proxy class for its type (and
 * for the meta-annotations it carries) at run time, generated with the ClassFile API. No AOT cache
 * holds such classes, so every start generated seven of them before the first guest instruction (in
 * the lab with a valid AOT cache: 0.0-0.3 s to init, 0.4-1.3 s of CPU per boot; more where a JVM
 * runs without the cache). A model built here is plain objects and lambdas, which the AOT cache
 * does hold. {@code MainTest} checks that a parse of every command defines no proxy class.
 *
 * <p>Options bind to their command's fields through a getter and a setter lambda ({@link #bind});
 * the field's value when the model is built is the option's initial value, which picocli restores
 * before every parse and shows as {@code ${DEFAULT-VALUE}}.
 */
final class CliModel {
    private CliModel() {}

    /** A command named {@code name} whose user object is {@code command}, nothing inspected. */
    static CommandSpec command(Object command, String name, String... description) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(command);
        spec.name(name);
        spec.usageMessage().description(description);
        return spec;
    }

    /**
     * {@code -h}/{@code --help} and {@code -V}/{@code --version}, what picocli's {@code
     * mixinStandardHelpOptions} adds (with its wording), which would read its own annotations.
     */
    static CommandSpec standardHelp(CommandSpec spec) {
        spec.addOption(
                OptionSpec.builder("-h", "--help")
                        .usageHelp(true)
                        .description("Show this help message and exit.")
                        .build());
        spec.addOption(
                OptionSpec.builder("-V", "--version")
                        .versionHelp(true)
                        .description("Print version information and exit.")
                        .build());
        return spec;
    }

    /** An option without a value: {@code set} gets true when it is given. */
    static OptionSpec flag(Supplier<Boolean> get, Consumer<Boolean> set, OptionSpec.Builder b) {
        return bind(b.type(boolean.class), get, set);
    }

    /** An option with one value of {@code type}, stored by {@code set}. */
    static <T> OptionSpec value(
            Class<T> type, Supplier<T> get, Consumer<T> set, OptionSpec.Builder b) {
        return bind(b.type(type), get, set);
    }

    /** A repeatable option: every occurrence adds one {@code element} to the list. */
    static <T> OptionSpec list(
            Class<T> element, Supplier<List<T>> get, Consumer<List<T>> set, OptionSpec.Builder b) {
        return bind(b.type(List.class).auxiliaryTypes(element), get, set);
    }

    private static <T> OptionSpec bind(OptionSpec.Builder b, Supplier<T> get, Consumer<T> set) {
        Binding<T> binding = new Binding<>(get, set);
        return b.getter(binding).setter(binding).initialValue(get.get()).build();
    }

    /** A field of a command, as picocli reads and writes it. */
    private record Binding<T>(Supplier<T> field, Consumer<T> assign) implements IGetter, ISetter {
        @Override
        @SuppressWarnings("unchecked")
        public <R> R get() {
            return (R) field.get();
        }

        @Override
        @SuppressWarnings("unchecked")
        public <R> R set(R value) {
            assign.accept((T) value);
            return null;
        }
    }
}
