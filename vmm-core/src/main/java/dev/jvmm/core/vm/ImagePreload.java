package dev.jvmm.core.vm;

import dev.jvmm.core.boot.BootImageException;
import dev.jvmm.core.boot.BootImages;
import dev.jvmm.core.boot.BootPlacement;
import dev.jvmm.core.boot.KernelLoader;
import dev.jvmm.core.memory.GuestMemory;

/**
 * The first boot's kernel and initrd, copied into guest RAM on their own thread from the moment the
 * RAM is mapped, while the VM, vCPUs, interrupt controller, firmware and devices are set up (issue
 * 12: reading a distribution kernel took ~0.9 s of a lab boot's set-up, after all of the rest).
 * Nothing reads the copied bytes before {@link #await()}; reboots load synchronously.
 *
 * <p>{@link #close()} (set-up failed) interrupts the copy, which ends the file channel being read,
 * and waits for the thread, so guest RAM is never unmapped under it.
 */
final class ImagePreload implements AutoCloseable {
    private final Thread thread;
    private BootPlacement placement; // written by the thread, read after join
    private BootImageException failure;
    private Throwable bug; // a RuntimeException or an Error the copy ended with

    private ImagePreload(GuestMemory mem, BootImages images) {
        this.thread =
                Thread.ofPlatform()
                        .name("image-load")
                        .daemon(true)
                        .unstarted(() -> load(mem, images));
    }

    /** Starts copying {@code images} into {@code mem}, which must stay mapped until joined. */
    static ImagePreload start(GuestMemory mem, BootImages images) {
        ImagePreload p = new ImagePreload(mem, images);
        p.thread.start();
        return p;
    }

    private void load(GuestMemory mem, BootImages images) {
        try {
            placement = KernelLoader.load(mem, images);
        } catch (BootImageException e) {
            failure = e;
        } catch (RuntimeException | Error e) {
            bug = e; // await() rethrows it on the set-up thread, not the default handler's trace
        }
    }

    /** Waits for the copy: where the images went, or why they could not be read. */
    BootPlacement await() throws BootImageException {
        SetupThreads.joinUninterruptibly(thread);
        if (failure != null) throw failure;
        if (bug instanceof Error e) throw e;
        if (bug != null) throw new IllegalStateException("loading the boot images failed", bug);
        if (placement == null)
            throw new IllegalStateException("loading the boot images ended without a result");
        return placement;
    }

    /** Stops a copy still running and waits for its thread (the RAM may be unmapped afterwards). */
    @Override
    public void close() {
        thread.interrupt();
        SetupThreads.joinUninterruptibly(thread);
    }
}
