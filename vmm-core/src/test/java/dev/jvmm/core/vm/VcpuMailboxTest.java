package dev.jvmm.core.vm;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class VcpuMailboxTest {
    @Test
    void postKicksAndDrainRunsInOrderWithTheVcpuRegisters() {
        AtomicInteger kicks = new AtomicInteger();
        VcpuMailbox m = new VcpuMailbox(kicks::incrementAndGet);
        List<String> ran = new ArrayList<>();
        ExitDispatcherHypercallTest.Regs regs = new ExitDispatcherHypercallTest.Regs(3);
        assertTrue(m.isEmpty());
        m.post(r -> ran.add("a" + r.cpu()));
        m.post(r -> ran.add("b" + r.cpu()));
        assertEquals(2, kicks.get(), "every post kicks the vCPU out of KVM_RUN");
        assertFalse(m.isEmpty());
        assertEquals(2, m.drain(regs));
        assertEquals(List.of("a3", "b3"), ran);
        assertTrue(m.isEmpty());
        assertEquals(0, m.drain(regs));
    }
}
