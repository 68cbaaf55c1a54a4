package dev.jvmm.core.arch.aarch64;

import dev.jvmm.core.arch.Layout;
import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.kvm.IrqRouting;
import dev.jvmm.kvm.Vm;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The one owner of a VM's GSI routing table: every irqfd goes through it. KVM_SET_GSI_ROUTING
 * replaces the whole table, so the table pushed always holds an identity entry ({@code gsi == pin})
 * for every SPI an irqfd is bound to (what KVM's default table gave them), plus one MSI entry per
 * routed MSI GSI. MSI GSIs are handed out above the vGIC's SPIs, so they never shadow a line. Until
 * the first MSI route, nothing is pushed and KVM's default table stays.
 *
 * <p>Thread-safe; callers may hold their own device lock while calling (this lock is innermost).
 */
public final class GsiRoutes {
    /** What the table is pushed to: a {@link Vm} in real runs, a recorder in tests. */
    public interface Target {
        void irqfd(int efd, int gsi);

        void setGsiRouting(List<IrqRoute> routes);
    }

    /** The first MSI GSI: past the vGIC's last SPI (GSIs of SPIs are SPI numbers). */
    public static final int FIRST_MSI_GSI = Layout.GIC_NR_IRQS - Layout.SPI_BASE;

    private final Target target;
    private final TreeSet<Integer> spis = new TreeSet<>();
    private final TreeMap<Integer, IrqRoute.Msi> msis = new TreeMap<>();
    private int nextMsiGsi = FIRST_MSI_GSI;
    private boolean pushed;
    private long pushes;

    public GsiRoutes(Target target) {
        this.target = target;
    }

    public static GsiRoutes of(Vm vm) {
        return new GsiRoutes(
                new Target() {
                    @Override
                    public void irqfd(int efd, int gsi) {
                        vm.irqfd(efd, gsi);
                    }

                    @Override
                    public void setGsiRouting(List<IrqRoute> routes) {
                        vm.setGsiRouting(routes);
                    }
                });
    }

    /**
     * Binds {@code efd} to SPI {@code spi} (INTID - 32); its identity entry stays in every table.
     */
    public synchronized void bindSpi(int efd, int spi) {
        if (spi < 0 || spi >= FIRST_MSI_GSI)
            throw new IllegalArgumentException("SPI " + spi + " is not a vGIC line");
        target.irqfd(efd, spi);
        if (spis.add(spi) && pushed) push(); // a table exists: the new line needs its entry too
    }

    /**
     * Reserves a new MSI GSI and binds {@code efd} to it. It delivers nothing until {@link #route}
     * gives it a message.
     *
     * @throws IllegalStateException when the VM has used up KVM's GSIs
     */
    public synchronized int bindMsi(int efd) {
        if (nextMsiGsi >= IrqRouting.MAX_ROUTES)
            throw new IllegalStateException(
                    "out of MSI GSIs: KVM routes at most " + IrqRouting.MAX_ROUTES);
        int gsi = nextMsiGsi;
        target.irqfd(efd, gsi);
        nextMsiGsi++;
        return gsi;
    }

    /**
     * Applies {@code changes} (an MSI GSI to its route, or to null for none: the vector is masked
     * or disabled) and pushes the table once, when anything changed.
     */
    public synchronized void route(Map<Integer, IrqRoute.Msi> changes) {
        boolean changed = false;
        for (Map.Entry<Integer, IrqRoute.Msi> c : changes.entrySet()) {
            int gsi = c.getKey();
            if (gsi < FIRST_MSI_GSI || gsi >= nextMsiGsi)
                throw new IllegalArgumentException("GSI " + gsi + " was not bound by bindMsi");
            IrqRoute.Msi m = c.getValue();
            if (m != null && m.gsi() != gsi)
                throw new IllegalArgumentException("route for GSI " + m.gsi() + " under " + gsi);
            IrqRoute.Msi old = m == null ? msis.remove(gsi) : msis.put(gsi, m);
            changed |= m == null ? old != null : !m.equals(old);
        }
        if (changed) push();
    }

    /** Drops every MSI route (an in-place reboot); SPI entries stay. */
    public synchronized void clearMsiRoutes() {
        if (msis.isEmpty()) return;
        msis.clear();
        push();
    }

    /** The table as it would be pushed now: identity SPI entries, then MSI entries by GSI. */
    public synchronized List<IrqRoute> table() {
        List<IrqRoute> t = new ArrayList<>(spis.size() + msis.size());
        for (int spi : spis) t.add(new IrqRoute.Irqchip(spi, spi));
        t.addAll(msis.values());
        return t;
    }

    /** How many times the table was pushed to KVM (each one a KVM_SET_GSI_ROUTING). */
    public synchronized long pushes() {
        return pushes;
    }

    private void push() {
        target.setGsiRouting(table());
        pushed = true;
        pushes++;
    }
}
