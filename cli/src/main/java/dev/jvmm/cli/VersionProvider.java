package dev.jvmm.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** Version from the build (filtered resource), plus the Java runtime it runs on. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        Properties p = new Properties();
        try (InputStream in =
                VersionProvider.class.getResourceAsStream("/jvmm-version.properties")) {
            if (in != null) p.load(in);
        } catch (IOException ignored) {
            // fall through to "unknown"
        }
        return new String[] {
            "jvmm " + p.getProperty("version", "unknown"),
            "Java "
                    + Runtime.version()
                    + " ("
                    + System.getProperty("java.vendor")
                    + "), "
                    + System.getProperty("os.arch"),
        };
    }
}
