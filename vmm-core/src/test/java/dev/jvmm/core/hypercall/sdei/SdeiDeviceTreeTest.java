package dev.jvmm.core.hypercall.sdei;

import static org.junit.jupiter.api.Assertions.*;

import dev.jvmm.core.arch.DeviceTreeBuilder;
import dev.jvmm.core.arch.DeviceTreeInput;
import dev.jvmm.core.arch.Layout;
import dev.jvmm.core.arch.PsciVersion;
import dev.jvmm.core.fdt.Dtc;
import dev.jvmm.core.fdt.FdtTestReader;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SdeiDeviceTreeTest {
    private static final Layout LAYOUT = new Layout(256 * Layout.MIB, 2);

    private static byte[] tree(boolean sdei) {
        DeviceTreeInput in =
                DeviceTreeInput.of(
                                LAYOUT, DeviceTreeInput.kvmDefaultMpidrs(2), PsciVersion.V1_1, "")
                        .withExtraNodes(sdei ? List.of(SdeiDeviceTree.node()) : List.of());
        return new DeviceTreeBuilder(new Random(7)).build(in);
    }

    @Test
    void firmwareSdeiNodeAsLinuxLooksItUp() {
        FdtTestReader.Tree t = FdtTestReader.parse(tree(true));
        FdtTestReader.Node sdei = t.node("/firmware/sdei");
        assertEquals("arm,sdei-1.0", sdei.string("compatible"));
        assertEquals("hvc", sdei.string("method"));
        Dtc.Result r = Dtc.decompile(tree(true));
        assertEquals("", r.err().strip(), "dtc warnings");
        assertTrue(
                r.out()
                        .contains(
                                "firmware {\n\n\t\tsdei {\n\t\t\tcompatible = \"arm,sdei-1.0\";\n\t\t\tmethod = \"hvc\";"),
                r.out());
    }

    @Test
    void noNodeWithoutSdei() {
        FdtTestReader.Tree t = FdtTestReader.parse(tree(false));
        assertFalse(t.root().children().stream().anyMatch(n -> n.name().equals("firmware")));
    }
}
