package dev.jvmm.core.vm;

/** Waiting for the short-lived threads VM set-up starts beside itself (warm-up, image copy). */
final class SetupThreads {
    private SetupThreads() {}

    /**
     * Waits for {@code thread} to end even if interrupted meanwhile (the caller is about to free
     * what the thread uses), then restores the interrupt status.
     */
    static void joinUninterruptibly(Thread thread) {
        uninterruptibly(thread::join);
    }

    /** A wait that an interrupt may cut short. */
    interface Wait {
        void await() throws InterruptedException;
    }

    /** Waits through {@code wait} even if interrupted meanwhile, then restores the interrupt. */
    static void uninterruptibly(Wait wait) {
        boolean interrupted = false;
        while (true) {
            try {
                wait.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
