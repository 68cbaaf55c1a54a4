package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ErrnoTest {
    @Test
    void namesMatchTheKernelHeaders() throws IOException {
        Pattern def = Pattern.compile("^#define\\s+(E[A-Z0-9]+)\\s+([0-9]+)", Pattern.MULTILINE);
        int checked = 0;
        for (String h : new String[] {"errno-base.h", "errno.h"}) {
            Path p = Path.of("/usr/include/asm-generic", h);
            assertTrue(Files.exists(p), p + " missing: run scripts/setup-host.sh (linux-libc-dev)");
            Matcher m = def.matcher(Files.readString(p));
            while (m.find()) {
                int n = Integer.parseInt(m.group(2));
                assertEquals(n, Errno.byName(m.group(1)), m.group(1));
                checked++;
            }
        }
        assertTrue(checked > 120, "only " + checked + " errno values found");
    }

    @Test
    void unknownNumbersStillPrint() {
        assertEquals("errno 999", Errno.name(999));
        assertEquals("errno -3", Errno.name(-3));
        assertEquals("EBUSY", Errno.name(16));
    }

    @Test
    void exceptionNamesOperationAndErrno() {
        var e = new KvmException("KVM_SET_ONE_REG(STD_BMAP)", Errno.EBUSY);
        assertEquals("KVM_SET_ONE_REG(STD_BMAP): EBUSY", e.getMessage());
        assertEquals("EBUSY", e.errnoName());
        assertEquals(16, e.errno());
    }
}
