package dev.jvmm.core.vm;

import dev.jvmm.core.JvmmException;
import dev.jvmm.core.files.HostFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A virtio-blk disk backed by a host file, checked when created so a bad one is a usage error
 * before any KVM fd exists: the file exists, is a regular file, is readable, and is writable unless
 * {@code readOnly}. Messages name the file and the operating system's reason.
 */
public record DiskConfig(Path path, boolean readOnly) {
    public DiskConfig {
        Objects.requireNonNull(path, "path");
        String who = "disk " + path + ": ";
        var problem = HostFiles.inputProblem(path, false);
        if (problem.isPresent()) {
            String why = problem.get().reason();
            if (problem.get().missing()) why = "no such file";
            else if (why.startsWith("is a directory")) why = "is a directory, not a disk image";
            else if (why.startsWith("not a regular file"))
                why = "not a regular file (block devices are not supported)";
            else if (Files.exists(path)) why = "not readable (" + why + ")";
            throw JvmmException.usage(
                    who + why); // e.g. a directory we may not search: permission denied
        }
        if (!readOnly && HostFiles.inputProblem(path, true).isPresent()) {
            throw JvmmException.usage(who + "not writable; attach it read-only with ro=on");
        }
    }

    @Override
    public String toString() {
        return "disk " + path + (readOnly ? " (read-only)" : "");
    }
}
