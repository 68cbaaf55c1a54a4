package dev.jvmm.kvm.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * In the kvm and boot tiers ({@code JVMM_REQUIRE_KVM} set, i.e. {@code ./lab test}): one line per
 * test class as it ends, with its wall time, and the slowest classes at the end. The lab tier runs
 * against a time limit in CI, and the JUnit reports are written only when the run ends, so a run
 * cut off at the limit would otherwise leave no trace of where its time went.
 */
public final class LabClassTimes implements TestExecutionListener {
    private final boolean on = System.getenv("JVMM_REQUIRE_KVM") != null;
    private final Map<String, Long> started = new ConcurrentHashMap<>();
    private final Map<String, Integer> failedTests = new ConcurrentHashMap<>();
    private final List<String> ended = new ArrayList<>();
    private final List<Long> endedMillis = new ArrayList<>();
    private final long t0 = System.nanoTime();

    @Override
    public void executionStarted(TestIdentifier id) {
        if (on && isClass(id)) started.put(id.getUniqueId(), System.nanoTime());
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (!on) return;
        // a class container ends SUCCESSFUL even when tests in it failed: count those per class
        if (id.getSource().orElse(null) instanceof MethodSource m
                && result.getStatus() != TestExecutionResult.Status.SUCCESSFUL)
            failedTests.merge(m.getClassName(), 1, Integer::sum);
        Long start = isClass(id) ? started.remove(id.getUniqueId()) : null;
        if (start == null) return;
        long ms = (System.nanoTime() - start) / 1_000_000;
        String name = ((ClassSource) id.getSource().orElseThrow()).getClassName();
        int failed = failedTests.getOrDefault(name, 0);
        String status =
                result.getStatus() != TestExecutionResult.Status.SUCCESSFUL
                        ? result.getStatus().toString()
                        : failed > 0 ? failed + " FAILED" : "ok";
        System.err.printf(
                "lab-test: %-60s %7.1f s %s (at %.0f s)%n",
                name, ms / 1000.0, status, (System.nanoTime() - t0) / 1e9);
        synchronized (this) {
            ended.add(name);
            endedMillis.add(ms);
        }
    }

    @Override
    public synchronized void testPlanExecutionFinished(TestPlan plan) {
        if (!on || ended.isEmpty()) return;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < ended.size(); i++) order.add(i);
        order.sort((a, b) -> Long.compare(endedMillis.get(b), endedMillis.get(a)));
        System.err.println("lab-test: slowest classes:");
        for (int i : order.subList(0, Math.min(15, order.size())))
            System.err.printf(
                    "lab-test:   %7.1f s %s%n", endedMillis.get(i) / 1000.0, ended.get(i));
    }

    private static boolean isClass(TestIdentifier id) {
        return id.getSource().orElse(null) instanceof ClassSource;
    }
}
