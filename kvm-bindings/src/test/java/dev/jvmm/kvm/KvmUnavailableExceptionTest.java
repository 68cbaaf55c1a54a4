package dev.jvmm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Opening /dev/kvm fails in a few ways; each is one line that says what to do. */
class KvmUnavailableExceptionTest {
    @Test
    void permissionErrorSaysHowToGetAccess() {
        var e = KvmUnavailableException.fromOpen("/dev/kvm", Errno.EACCES);
        assertEquals(KvmUnavailableException.Reason.PERMISSION, e.reason());
        assertTrue(e.getMessage().contains("no permission to open /dev/kvm"), e.getMessage());
        assertTrue(e.getMessage().contains("group"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void missingDeviceSaysToUseTheLab() {
        var e = KvmUnavailableException.fromOpen("/dev/kvm", Errno.ENOENT);
        assertEquals(KvmUnavailableException.Reason.MISSING, e.reason());
        assertTrue(e.getMessage().contains("./lab run"), e.getMessage());
    }

    @Test
    void otherErrorsNameTheErrno() {
        var e = KvmUnavailableException.fromOpen("/dev/kvm", Errno.EIO);
        assertEquals("cannot open /dev/kvm: EIO", e.getMessage());
    }
}
