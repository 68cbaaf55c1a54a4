package dev.jvmm.core.files;

import dev.jvmm.core.JvmmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One path, one role: the kernel, initrd, each disk, the serial file, the --dump-dtb file and the
 * API socket must all be different files, or one role would destroy another's file (a serial file
 * that is a disk image is truncated; an initrd that is a disk image would drop its lock when read).
 * Files that exist are compared by device and inode after following links, so a symlink or hard
 * link is the same file; an output that does not exist yet is compared by its resolved directory
 * and name.
 */
public final class FileRoles {
    /** Links followed for a path that does not exist, as the kernel's MAXSYMLINKS. */
    private static final int MAX_LINKS = 40;

    private record Role(String label, Object identity) {}

    private final List<Role> roles = new ArrayList<>();

    /**
     * Adds a file in a role; {@code label} is how the user gave it, e.g. {@code "--disk /x.img"}.
     *
     * @throws JvmmException (usage) when an earlier role has the same file
     */
    public FileRoles add(String label, Path file) {
        if (file == null) return this;
        Object id = identity(file);
        for (Role r : roles) {
            if (r.identity().equals(id)) {
                throw JvmmException.usage(
                        r.label()
                                + " and "
                                + label
                                + " are the same file; each of kernel, initrd,"
                                + " disks, serial file, --dump-dtb and --api-socket needs its own");
            }
        }
        roles.add(new Role(label, id));
        return this;
    }

    /**
     * A file's identity. equals and hashCode are written out: a record's generated ones are linked
     * through a bootstrap method that spins classes at run time (7 of them at every start, where
     * the AOT cache holds none; issue 12).
     */
    private record Inode(Object dev, Object ino) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Inode i && dev.equals(i.dev) && ino.equals(i.ino);
        }

        @Override
        public int hashCode() {
            return 31 * dev.hashCode() + ino.hashCode();
        }
    }

    static Object identity(Path file) {
        try {
            var a = Files.readAttributes(file, "unix:dev,ino");
            return new Inode(a.get("dev"), a.get("ino"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return resolvedName(file); // not there (yet), or not stat-able: its name decides
        }
    }

    /**
     * The absolute path with the directory's links resolved and a dangling link at the end
     * followed.
     */
    private static Path resolvedName(Path file) {
        Path p = file.toAbsolutePath().normalize();
        for (int i = 0; i < MAX_LINKS && Files.isSymbolicLink(p); i++) {
            try {
                p = p.getParent().resolve(Files.readSymbolicLink(p)).toAbsolutePath().normalize();
            } catch (IOException e) {
                break;
            }
        }
        Path parent = p.getParent();
        if (parent == null) return p;
        try {
            return parent.toRealPath().resolve(p.getFileName());
        } catch (IOException e) {
            return p;
        }
    }
}
