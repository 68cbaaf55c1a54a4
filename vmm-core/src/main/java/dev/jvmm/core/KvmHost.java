package dev.jvmm.core;

import dev.jvmm.kvm.Kvm;
import dev.jvmm.kvm.KvmUnavailableException;

/** Opens this host's KVM for arm64 guests, or explains in one line why it cannot. */
public final class KvmHost {
    private KvmHost() {}

    public static Kvm openArm64() {
        return openArm64(System.getProperty("os.arch"), Kvm.DEFAULT_PATH);
    }

    static Kvm openArm64(String arch, String path) {
        if (!"aarch64".equals(arch)) {
            throw new KvmUnavailableException(
                    "this host is "
                            + ("amd64".equals(arch) ? "x86_64" : arch)
                            + ", and jvmm runs arm64 guests on an arm64"
                            + " KVM host; here, use the arm64 lab: ./lab run -- jvmm ...",
                    KvmUnavailableException.Reason.WRONG_ARCH);
        }
        return Kvm.open(path);
    }
}
