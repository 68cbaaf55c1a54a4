package dev.jvmm.core.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jvmm.kvm.IrqRoute;
import dev.jvmm.kvm.IrqRouting;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The routing-table owner: since KVM_SET_GSI_ROUTING replaces the whole table, every table it
 * pushes keeps an identity entry for each SPI bound by irqfd; MSI GSIs never collide with SPIs;
 * entries are replaced and removed as asked; nothing is pushed when nothing changed.
 */
class GsiRoutesTest {
    private final List<int[]> irqfds = new ArrayList<>();
    private final List<List<IrqRoute>> tables = new ArrayList<>();
    private final GsiRoutes routes =
            new GsiRoutes(
                    new GsiRoutes.Target() {
                        @Override
                        public void irqfd(int efd, int gsi) {
                            irqfds.add(new int[] {efd, gsi});
                        }

                        @Override
                        public void setGsiRouting(List<IrqRoute> r) {
                            tables.add(List.copyOf(r));
                        }
                    });

    private static IrqRoute.Msi msi(int gsi, int data) {
        return new IrqRoute.Msi(gsi, 0x3ffd_0040L, data, 0x10, true);
    }

    private static Map<Integer, IrqRoute.Msi> change(int gsi, IrqRoute.Msi m) {
        Map<Integer, IrqRoute.Msi> c = new HashMap<>();
        c.put(gsi, m);
        return c;
    }

    @Test
    void spisAloneLeaveKvmsDefaultTable() {
        routes.bindSpi(100, 4);
        routes.bindSpi(101, 5);
        assertEquals(2, irqfds.size());
        assertEquals(4, irqfds.get(0)[1], "an SPI's GSI is its number");
        assertTrue(tables.isEmpty(), "no push: KVM's identity table already routes them");
    }

    @Test
    void everyPushedTableKeepsTheBoundSpis() {
        routes.bindSpi(100, 4);
        routes.bindSpi(101, 7);
        int a = routes.bindMsi(200);
        int b = routes.bindMsi(201);
        assertEquals(GsiRoutes.FIRST_MSI_GSI, a);
        assertEquals(a + 1, b);
        assertTrue(a > 7 && a >= 96, "MSI GSIs are above every vGIC SPI");
        assertTrue(tables.isEmpty(), "binding an MSI GSI routes nothing yet");

        routes.route(change(a, msi(a, 1)));
        assertEquals(
                List.of(new IrqRoute.Irqchip(4, 4), new IrqRoute.Irqchip(7, 7), msi(a, 1)),
                tables.getLast());
        routes.route(change(b, msi(b, 2)));
        assertEquals(4, tables.getLast().size());

        // replaced, then removed
        routes.route(change(a, msi(a, 3)));
        assertEquals(msi(a, 3), tables.getLast().get(2));
        routes.route(change(a, null));
        assertEquals(
                List.of(new IrqRoute.Irqchip(4, 4), new IrqRoute.Irqchip(7, 7), msi(b, 2)),
                tables.getLast());

        // a line bound after the first push is pushed at once, MSI routes kept
        routes.bindSpi(102, 9);
        assertEquals(
                List.of(
                        new IrqRoute.Irqchip(4, 4),
                        new IrqRoute.Irqchip(7, 7),
                        new IrqRoute.Irqchip(9, 9),
                        msi(b, 2)),
                tables.getLast());
        assertEquals(routes.table(), tables.getLast());
    }

    @Test
    void unchangedRoutesAreNotPushedAgain() {
        int a = routes.bindMsi(200);
        routes.route(change(a, msi(a, 1)));
        long pushes = routes.pushes();
        routes.route(change(a, msi(a, 1)));
        routes.route(Map.of());
        int b = routes.bindMsi(201);
        routes.route(change(b, null));
        assertEquals(pushes, routes.pushes());
        Map<Integer, IrqRoute.Msi> both = new HashMap<>();
        both.put(a, msi(a, 5));
        both.put(b, msi(b, 6));
        routes.route(both);
        assertEquals(pushes + 1, routes.pushes(), "one push for a batch");
    }

    @Test
    void clearingMsiRoutesKeepsTheSpis() {
        routes.bindSpi(100, 4);
        int a = routes.bindMsi(200);
        routes.route(change(a, msi(a, 1)));
        routes.clearMsiRoutes();
        assertEquals(List.of(new IrqRoute.Irqchip(4, 4)), tables.getLast());
    }

    @Test
    void limitsAndMisuseAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> routes.bindSpi(1, -1));
        assertThrows(
                IllegalArgumentException.class, () -> routes.bindSpi(1, GsiRoutes.FIRST_MSI_GSI));
        assertThrows(IllegalArgumentException.class, () -> routes.route(change(4, msi(4, 0))));
        int a = routes.bindMsi(1);
        assertThrows(
                IllegalArgumentException.class, () -> routes.route(change(a + 1, msi(a + 1, 0))));
        assertThrows(IllegalArgumentException.class, () -> routes.route(change(a, msi(a + 1, 0))));
        for (int g = a + 1; g < IrqRouting.MAX_ROUTES; g++) assertEquals(g, routes.bindMsi(1));
        assertThrows(IllegalStateException.class, () -> routes.bindMsi(1));
        assertTrue(tables.isEmpty());
        // the largest table stays within KVM's limit
        for (int s = 0; s < GsiRoutes.FIRST_MSI_GSI; s++) routes.bindSpi(1, s);
        Map<Integer, IrqRoute.Msi> all = new HashMap<>();
        for (int g = a; g < IrqRouting.MAX_ROUTES; g++) all.put(g, msi(g, g));
        routes.route(all);
        assertEquals(IrqRouting.MAX_ROUTES, tables.getLast().size());
    }
}
