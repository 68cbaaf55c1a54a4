package dev.jvmm.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * What the package ships that can be checked on the build host: the man pages and completion this
 * build generated (packaging/pom.xml passes their paths), and the control file. The boot tier
 * (DebInstallBootTest) installs the package in the lab and boots with it.
 */
class PackageContentsTest {
    private static final Path MAN = Path.of(System.getProperty("jvmm.man", "target/man"));
    private static final Path COMPLETION =
            Path.of(System.getProperty("jvmm.completion", "target/completion/jvmm"));
    private static final Path CONTROL = Path.of("src/deb/control/control");

    /** Every command a user can type, with its man page name: jvmm, jvmm-run, jvmm-ctl-stop... */
    private static List<CommandSpec> visibleCommands(CommandSpec spec) {
        List<CommandSpec> all = new ArrayList<>();
        all.add(spec);
        for (CommandLine sub : spec.subcommands().values()) {
            CommandSpec s = sub.getCommandSpec();
            if (!s.usageMessage().hidden() && !all.contains(s)) all.addAll(visibleCommands(s));
        }
        return all.stream().distinct().toList();
    }

    private static String manPage(String name) throws IOException {
        Path page = MAN.resolve(name + ".1.gz");
        assertTrue(Files.isRegularFile(page), "no man page " + page);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(page))) {
            // roff escapes every '-' as "\-"
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("\\-", "-");
        }
    }

    @Test
    void everyVisibleCommandHasARoffManPage() throws IOException {
        for (CommandSpec c : visibleCommands(GenerateDocs.fullModel().getCommandSpec())) {
            String name = c.qualifiedName("-");
            String page = manPage(name);
            assertTrue(
                    page.contains(".TH \"" + name.toUpperCase(java.util.Locale.ROOT) + "\" \"1\""),
                    name + ".1 has no .TH header:\n" + page);
        }
    }

    @Test
    void theRunManPageNamesEveryRunOption() throws IOException {
        CommandSpec run = GenerateDocs.fullModel().getSubcommands().get("run").getCommandSpec();
        String page = manPage("jvmm-run");
        for (OptionSpec o : run.options()) {
            if (o.hidden()) continue;
            for (String name : o.names()) {
                assertTrue(page.contains(name), "jvmm-run.1 does not name " + name);
            }
        }
        // the synopsis escaping: --disk's bracketed label survives AsciiDoc intact
        assertTrue(page.contains("[\\fB-d\\fP=\\fIpath=FILE[,ro=on]\\fP]..."), page);
    }

    @Test
    void bashCompletionKnowsEveryCommandAndRunsOptions() throws IOException {
        String script = Files.readString(COMPLETION);
        assertTrue(script.contains("complete -F _complete_jvmm"), script);
        for (CommandSpec c : visibleCommands(GenerateDocs.fullModel().getCommandSpec())) {
            assertTrue(script.contains(c.name()), "completion lacks the command " + c.name());
        }
        for (String option : List.of("--kernel", "--initrd", "--disk", "--timeout", "--socket")) {
            assertTrue(script.contains(option), "completion lacks " + option);
        }
    }

    @Test
    void controlFileDependsOnAJava22RuntimeAndIsArchitectureAll() throws IOException {
        List<String> control = Files.readAllLines(CONTROL);
        assertTrue(control.contains("Architecture: all"), control.toString());
        // trixie's openjdk-25-jre-headless provides only "java-runtime-headless (= 25)" (no
        // java22-runtime-headless); the real package first, so apt has a default to pick
        assertTrue(
                control.contains(
                        "Depends: openjdk-25-jre-headless | java-runtime-headless (>= 22)"),
                control.toString());
        assertTrue(control.contains("Package: jvmm"), control.toString());
    }

    @Test
    void synopsisBracketsBecomeAttributeReferencesOnlyInTheSynopsis() {
        String adoc =
                """
                == Synopsis

                *jvmm run* [*-d*=_path=FILE[,ro=on]_]...

                // end::x[]
                == Options

                *-d*, *--disk*=_path=FILE[,ro=on]_::
                """;
        String expected =
                """
                == Synopsis

                *jvmm run* [*-d*=_path=FILE{startsb},ro=on{endsb}_]...

                // end::x[]
                == Options

                *-d*, *--disk*=_path=FILE[,ro=on]_::
                """;
        assertEquals(expected, GenerateDocs.escapeSynopsis(adoc));
    }
}
