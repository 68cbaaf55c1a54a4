package dev.jvmm.core.vm;

/** Joining the short-lived threads VM set-up starts beside itself (warm-up, image copy). */
final class SetupThreads {
    private SetupThreads() {}

    /**
     * Waits for {@code thread} to end even if interrupted meanwhile (the caller is about to free
     * what the thread uses), then restores the interrupt status.
     */
    static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }
}
