package dev.jvmm.packaging;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.asciidoctor.Asciidoctor;
import org.asciidoctor.Options;
import org.asciidoctor.SafeMode;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * Build step of the Debian package ({@code packaging/pom.xml}, phase process-classes), from the
 * CLI's full picocli model, so neither can drift from the options {@code jvmm} really takes:
 *
 * <ul>
 *   <li>man pages: picocli-codegen's {@link ManPageGenerator} writes AsciiDoc ({@code jvmm.adoc},
 *       {@code jvmm-run.adoc}, ... one per visible command) and Asciidoctor's manpage backend turns
 *       each into roff, gzipped as Debian ships man pages ({@code jvmm-run.1.gz});
 *   <li>the bash completion script ({@link AutoComplete#bash}).
 * </ul>
 *
 * <p>Asciidoctor runs on JRuby, whose start-up is most of this step's cost (~30 s on a loaded
 * 2-core machine): it runs only when the AsciiDoc differs from what the existing man pages were
 * made from (a hash in {@value #STAMP}), so a rebuild after a change that leaves the CLI's help
 * alone costs about a second here.
 *
 * <p>Usage: {@code GenerateDocs ADOC_DIR MAN_DIR COMPLETION_FILE}.
 */
public final class GenerateDocs {
    /** In MAN_DIR: the SHA-256 of the AsciiDoc the man pages there were converted from. */
    static final String STAMP = ".adoc.sha256";

    private static final int SYNOPSIS_WIDTH = 1000;
    private static final Pattern SYNOPSIS = Pattern.compile("(?s)== Synopsis\\n.*?(?=\\n// end::)");
    private static final Pattern LABEL = Pattern.compile("=_([^_\\s]*)_");

    private GenerateDocs() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: GenerateDocs ADOC_DIR MAN_DIR COMPLETION_FILE");
            System.exit(2);
        }
        CommandLine cl = fullModel();
        Path adocDir = Path.of(args[0]);
        Path manDir = Path.of(args[1]);
        Path completion = Path.of(args[2]);

        Files.createDirectories(completion.toAbsolutePath().getParent());
        Files.writeString(completion, AutoComplete.bash("jvmm", cl), StandardCharsets.UTF_8);

        Map<String, String> adoc = writeAdoc(cl, adocDir);
        String hash = sha256(adoc.toString());
        Path stamp = manDir.resolve(STAMP);
        if (Files.isRegularFile(stamp) && Files.readString(stamp).equals(hash)) return;
        convert(adoc, manDir);
        Files.writeString(stamp, hash);
    }

    /** Writes one AsciiDoc page per visible command; returns them by file name. */
    static Map<String, String> writeAdoc(CommandLine cl, Path adocDir) throws IOException {
        deleteFiles(adocDir, "*.adoc");
        Files.createDirectories(adocDir);
        // ManPageGenerator wraps the synopsis at the usage width and can break inside an italic
        // parameter label (--disk's "path=FILE[,ro=on]"), which AsciiDoc then misreads; the man
        // page reflows the text anyway, so one synopsis line per command loses nothing
        cl.setUsageHelpWidth(SYNOPSIS_WIDTH);
        int rc =
                ManPageGenerator.generateManPage(
                        adocDir.toFile(), null, new boolean[0], false, cl.getCommandSpec());
        if (rc != 0) throw new IllegalStateException("ManPageGenerator failed with status " + rc);
        Map<String, String> pages = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(adocDir, "*.adoc")) {
            for (Path page : files) {
                String text = escapeSynopsis(Files.readString(page));
                Files.writeString(page, text);
                pages.put(page.getFileName().toString(), text);
            }
        }
        return pages;
    }

    /** AsciiDoc to roff with Asciidoctor's manpage backend, each page gzipped into MAN_DIR. */
    static void convert(Map<String, String> adoc, Path manDir) throws IOException {
        deleteFiles(manDir, "*.1.gz");
        Files.deleteIfExists(manDir.resolve(STAMP));
        Files.createDirectories(manDir);
        Options options =
                Options.builder().backend("manpage").standalone(true).safe(SafeMode.SAFE).build();
        try (Asciidoctor asciidoctor = Asciidoctor.Factory.create()) {
            for (Map.Entry<String, String> page : adoc.entrySet()) {
                String roff = asciidoctor.convert(page.getValue(), options);
                String name = page.getKey().replaceFirst("\\.adoc$", ".1.gz");
                // GZIPOutputStream writes no file name and a zero time: the same input, the same
                // bytes
                try (OutputStream out =
                        new GZIPOutputStream(Files.newOutputStream(manDir.resolve(name)))) {
                    out.write(roff.getBytes(StandardCharsets.UTF_8));
                }
            }
        }
    }

    /**
     * In the synopsis, brackets inside an italic parameter label ({@code
     * [*-d*=_path=FILE[,ro=on]_]}) read as an AsciiDoc attribute list and swallow the option;
     * picocli-codegen does not escape them, so here they become the {@code {startsb}}/{@code
     * {endsb}} attribute references. The option list renders the same labels correctly and is left
     * as generated.
     */
    static String escapeSynopsis(String adoc) {
        Matcher section = SYNOPSIS.matcher(adoc);
        if (!section.find()) return adoc;
        String escaped =
                LABEL.matcher(section.group())
                        .replaceAll(
                                m ->
                                        Matcher.quoteReplacement(
                                                "=_"
                                                        + m.group(1)
                                                                .replace("[", "{startsb}")
                                                                .replace("]", "{endsb}")
                                                        + "_"));
        return adoc.substring(0, section.start()) + escaped + adoc.substring(section.end());
    }

    /**
     * The CLI's model with every subcommand: {@code Main.fullCommandLine()} where the CLI builds
     * only the chosen subcommand's model on a normal start, else {@code Main.commandLine()} (which
     * builds all of them). Reflection, because both are package-private to the CLI.
     */
    static CommandLine fullModel() {
        Class<?> main;
        try {
            main = Class.forName("dev.jvmm.cli.Main");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("dev.jvmm.cli.Main is not on the class path", e);
        }
        for (String name : new String[] {"fullCommandLine", "commandLine"}) {
            Method m;
            try {
                m = main.getDeclaredMethod(name);
            } catch (NoSuchMethodException e) {
                continue;
            }
            m.setAccessible(true);
            try {
                return (CommandLine) m.invoke(null);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            } catch (InvocationTargetException e) {
                throw new IllegalStateException("Main." + name + "() failed", e.getCause());
            }
        }
        throw new IllegalStateException(
                "dev.jvmm.cli.Main has neither fullCommandLine() nor commandLine()");
    }

    private static void deleteFiles(Path dir, String glob) throws IOException {
        if (!Files.isDirectory(dir)) return;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, glob)) {
            for (Path f : files) Files.delete(f);
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of()
                    .formatHex(
                            MessageDigest.getInstance("SHA-256")
                                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
