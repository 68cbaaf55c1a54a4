package dev.jvmm.core.snapshot;

import dev.jvmm.core.KvmHost;
import dev.jvmm.kvm.Kvm;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The destination's host probe ({@link HostProbe#offered}) started on a thread of its own as a
 * restore begins, so that it runs while the snapshot is read and checked: both are cold code (the
 * probe's first FFM downcalls and KVM's scratch VM, the manifest's parse), and on two CPUs they
 * overlap. It builds nothing but that scratch VM, so the order of the refusals stays: a snapshot
 * that does not read is refused first (the probe's result is then dropped), the host is checked
 * next, and only then is the machine built. The probe assumes a guest with PSCI 0.2 or later (the
 * default); a snapshot of a PSCI 0.1 guest is probed again, on the calling thread.
 */
public final class HostProbeAhead {
    /** A probe started before the command line was parsed ({@link #startEarly}), not yet taken. */
    private static final AtomicReference<HostProbeAhead> EARLY = new AtomicReference<>();

    private final CompletableFuture<HostFacts> facts = new CompletableFuture<>();

    private HostProbeAhead() {}

    /**
     * Starts the probe as the process starts, for a command line that looks like a restore: the
     * next {@link #start} takes it instead of starting another. Nothing waits for it if the command
     * line is refused meanwhile.
     */
    public static void startEarly() {
        EARLY.compareAndSet(null, launch());
    }

    /**
     * Starts the probe (a daemon thread: a restore refused meanwhile does not wait for it), or
     * takes the one {@link #startEarly} started.
     */
    public static HostProbeAhead start() {
        HostProbeAhead early = EARLY.getAndSet(null);
        return early != null ? early : launch();
    }

    private static HostProbeAhead launch() {
        HostProbeAhead p = new HostProbeAhead();
        Thread.ofPlatform()
                .daemon()
                .name("jvmm-host-probe")
                .start(
                        () -> {
                            try (Kvm kvm = KvmHost.openArm64()) {
                                p.facts.complete(HostProbe.offered(kvm, true));
                            } catch (Throwable e) {
                                p.facts.completeExceptionally(e);
                            }
                        });
        return p;
    }

    /**
     * What this host offers {@code guest}: the early probe's result, waited for, or what it threw
     * (the same exception a probe on this thread would throw).
     */
    public HostFacts offered(GuestDefinition guest) {
        if (!HostProbe.psci02(guest)) return now(guest);
        try {
            return facts.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw e;
        }
    }

    /** The probe on the calling thread. */
    public static HostFacts now(GuestDefinition guest) {
        try (Kvm kvm = KvmHost.openArm64()) {
            return HostProbe.offered(kvm, guest);
        }
    }
}
