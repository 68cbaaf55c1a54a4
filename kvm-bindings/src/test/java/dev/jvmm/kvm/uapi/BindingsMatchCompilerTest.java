package dev.jvmm.kvm.uapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jvmm.kvm.IrqRouting;
import dev.jvmm.kvm.RegIds;
import dev.jvmm.kvm.sys.Tun;
import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.UnionLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Mechanical check of the committed jextract output and of {@link RegIds} against the C compiler:
 * every {@code KvmUapi} constant, every struct size and member offset/size (nested unions of {@code
 * kvm_run} included) and every RegIds helper becomes a {@code _Static_assert} in a generated C file
 * that {@code aarch64-linux-gnu-gcc -fsyntax-only} compiles against the same arm64 uapi headers the
 * bindings were generated from (scripts/fetch-uapi-headers.sh). Needs no jextract.
 *
 * <p>Fails (never skips) when the compiler or headers are missing: run scripts/setup-host.sh.
 */
class BindingsMatchCompilerTest {

    private static final String GCC = "aarch64-linux-gnu-gcc";
    private static final String SETUP_HINT =
            "run scripts/setup-host.sh (installs gcc-aarch64-linux-gnu and fetches the arm64 uapi headers)";
    private static final Path BASEDIR =
            Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    private static final Path JEXTRACT_DIR = BASEDIR.resolve("jextract");
    private static final Path OUT_DIR = BASEDIR.resolve("target/bindings-check");

    // ---- the checks
    // -------------------------------------------------------------------------------

    @Test
    void everyConstantMatchesTheCompiler() throws Exception {
        List<String> asserts = new ArrayList<>();
        for (Method m : constantMethods()) {
            String n = m.getName();
            Object v = m.invoke(null);
            if (m.getReturnType() == int.class) {
                int i = (Integer) v;
                asserts.add(
                        String.format(
                                "_Static_assert(sizeof(%1$s) == 4 && ((unsigned long long)(%1$s) & 0xffffffffULL) == 0x%2$xULL, "
                                        + "\"constant %1$s: KvmUapi says int 0x%2$x\");",
                                n, i));
            } else {
                long l = (Long) v;
                asserts.add(
                        String.format(
                                "_Static_assert(sizeof(%1$s) == 8 && (unsigned long long)(%1$s) == 0x%2$xULL, "
                                        + "\"constant %1$s: KvmUapi says long 0x%2$x\");",
                                n, l));
            }
        }
        assertTrue(
                asserts.size() > 500,
                "expected the full KVM constant set, found " + asserts.size());
        compile("constants", asserts);
    }

    @Test
    void everyStructSizeAndMemberOffsetMatchesTheCompiler() throws Exception {
        List<String> asserts = new ArrayList<>();
        for (Class<?> c : structClasses()) {
            GroupLayout g = (GroupLayout) c.getMethod("layout").invoke(null);
            String type = (g instanceof UnionLayout ? "union " : "struct ") + c.getSimpleName();
            asserts.add(
                    String.format(
                            "_Static_assert(sizeof(%1$s) == %2$d, \"sizeof(%1$s) == %2$d\");",
                            type, g.byteSize()));
            walk(type, g, null, 0, asserts);
        }
        assertTrue(
                asserts.size() > 400,
                "expected the full struct set, found " + asserts.size() + " entries");
        compile("layouts", asserts);
    }

    @Test
    void regIdsMatchTheCMacros() throws Exception {
        List<String> asserts = new ArrayList<>();
        Map<String, String> expr = cExpressionsForNames();
        assertEquals(
                new TreeSet<>(RegIds.names().keySet()),
                new TreeSet<>(expr.keySet()),
                "every RegIds name needs a C expression in this test (and vice versa)");
        RegIds.names()
                .forEach(
                        (name, id) -> {
                            asserts.add(eq64("byName(\"" + name + "\")", id, expr.get(name)));
                            asserts.add(
                                    eqInt(
                                            "size(" + name + ")",
                                            RegIds.size(id),
                                            "KVM_REG_SIZE(" + expr.get(name) + ")"));
                        });
        for (int op0 : new int[] {0, 1, 2, 3})
            for (int op1 : new int[] {0, 3, 4, 7})
                for (int crn : new int[] {0, 1, 9, 14, 15})
                    for (int crm : new int[] {0, 3, 15})
                        for (int op2 : new int[] {0, 2, 7}) {
                            String args = op0 + ", " + op1 + ", " + crn + ", " + crm + ", " + op2;
                            asserts.add(
                                    eq64(
                                            "sysReg(" + args + ")",
                                            RegIds.sysReg(op0, op1, crn, crm, op2),
                                            "ARM64_SYS_REG(" + args + ")"));
                        }
        for (int r : new int[] {0, 1, 2, 3, 4, 0xffff, 0x10001}) {
            asserts.add(eq64("fwReg(" + r + ")", RegIds.fwReg(r), "KVM_REG_ARM_FW_REG(" + r + ")"));
            asserts.add(
                    eq64(
                            "fwFeatBmapReg(" + r + ")",
                            RegIds.fwFeatBmapReg(r),
                            "KVM_REG_ARM_FW_FEAT_BMAP_REG(" + r + ")"));
        }
        for (int i : new int[] {0, 1, 17, 31, 32}) {
            for (int n = 0; n <= 32; n++) {
                asserts.add(
                        eq64(
                                "sveZReg(" + n + ", " + i + ")",
                                RegIds.sveZReg(n, i),
                                "KVM_REG_ARM64_SVE_ZREG(" + n + ", " + i + ")"));
                asserts.add(
                        eqInt(
                                "size(sveZReg)",
                                RegIds.size(RegIds.sveZReg(n, i)),
                                "KVM_REG_SIZE(KVM_REG_ARM64_SVE_ZREG(" + n + ", " + i + "))"));
            }
            for (int n = 0; n <= 16; n++) {
                asserts.add(
                        eq64(
                                "svePReg(" + n + ", " + i + ")",
                                RegIds.svePReg(n, i),
                                "KVM_REG_ARM64_SVE_PREG(" + n + ", " + i + ")"));
            }
            asserts.add(
                    eq64(
                            "sveFfr(" + i + ")",
                            RegIds.sveFfr(i),
                            "KVM_REG_ARM64_SVE_FFR(" + i + ")"));
            asserts.add(
                    eqInt(
                            "size(sveFfr)",
                            RegIds.size(RegIds.sveFfr(i)),
                            "KVM_REG_SIZE(KVM_REG_ARM64_SVE_FFR(" + i + "))"));
        }
        asserts.add(
                eqInt(
                        "size(SVE_VLS)",
                        RegIds.size(KvmUapi.KVM_REG_ARM64_SVE_VLS()),
                        "KVM_REG_SIZE(KVM_REG_ARM64_SVE_VLS)"));
        // hand-written ioctl numbers next to the register helpers
        asserts.add(
                eq64(
                        "Vcpu.KVM_PRE_FAULT_MEMORY",
                        dev.jvmm.kvm.Vcpu.KVM_PRE_FAULT_MEMORY,
                        "KVM_PRE_FAULT_MEMORY"));
        compile("regids", asserts);
    }

    /** The hand-written tap constants (dev.jvmm.kvm.sys.Tun), which jextract does not generate. */
    @Test
    void tunConstantsMatchTheCompiler() throws Exception {
        String prelude = "#include <linux/if.h>\n#include <linux/if_tun.h>\n";
        List<String> asserts =
                List.of(
                        eq64("Tun.TUNSETIFF", Tun.TUNSETIFF, "TUNSETIFF"),
                        eqInt("Tun.IFF_TAP", Tun.IFF_TAP, "IFF_TAP"),
                        eqInt("Tun.IFF_NO_PI", Tun.IFF_NO_PI, "IFF_NO_PI"),
                        eqInt("Tun.IFNAMSIZ", Tun.IFNAMSIZ, "IFNAMSIZ"),
                        eqInt("Tun.IFREQ_SIZE", Tun.IFREQ_SIZE, "sizeof(struct ifreq)"),
                        eqInt(
                                "Tun.IFREQ_FLAGS_OFFSET",
                                Tun.IFREQ_FLAGS_OFFSET,
                                "offsetof(struct ifreq, ifr_flags)"),
                        eqInt("Tun.IFREQ_FLAGS_OFFSET", 0, "offsetof(struct ifreq, ifr_name)"));
        compile("tun", prelude, asserts);
    }

    /** The hand-written GSI routing layout (dev.jvmm.kvm.IrqRouting), which jextract leaves out. */
    @Test
    void irqRoutingLayoutMatchesTheCompiler() throws Exception {
        String prelude = "#include <stddef.h>\n#include <linux/kvm.h>\n";
        String r = "struct kvm_irq_routing", e = "struct kvm_irq_routing_entry";
        String ic = "struct kvm_irq_routing_irqchip", msi = "struct kvm_irq_routing_msi";
        List<String> asserts =
                List.of(
                        eqInt("HEADER_SIZE", IrqRouting.HEADER_SIZE, "sizeof(" + r + ")"),
                        eqInt("NR", IrqRouting.NR, "offsetof(" + r + ", nr)"),
                        eqInt("FLAGS", IrqRouting.FLAGS, "offsetof(" + r + ", flags)"),
                        eqInt("entries", IrqRouting.HEADER_SIZE, "offsetof(" + r + ", entries)"),
                        eqInt("ENTRY_SIZE", IrqRouting.ENTRY_SIZE, "sizeof(" + e + ")"),
                        eqInt("ENTRY_GSI", IrqRouting.ENTRY_GSI, "offsetof(" + e + ", gsi)"),
                        eqInt("ENTRY_TYPE", IrqRouting.ENTRY_TYPE, "offsetof(" + e + ", type)"),
                        eqInt("ENTRY_FLAGS", IrqRouting.ENTRY_FLAGS, "offsetof(" + e + ", flags)"),
                        eqInt("ENTRY_U", IrqRouting.ENTRY_U, "offsetof(" + e + ", u)"),
                        eqInt("union", 32, "sizeof(((" + e + " *)0)->u)"),
                        eqInt(
                                "IRQCHIP_IRQCHIP",
                                IrqRouting.IRQCHIP_IRQCHIP,
                                "offsetof(" + ic + ", irqchip)"),
                        eqInt("IRQCHIP_PIN", IrqRouting.IRQCHIP_PIN, "offsetof(" + ic + ", pin)"),
                        eqInt(
                                "MSI_ADDRESS_LO",
                                IrqRouting.MSI_ADDRESS_LO,
                                "offsetof(" + msi + ", address_lo)"),
                        eqInt(
                                "MSI_ADDRESS_HI",
                                IrqRouting.MSI_ADDRESS_HI,
                                "offsetof(" + msi + ", address_hi)"),
                        eqInt("MSI_DATA", IrqRouting.MSI_DATA, "offsetof(" + msi + ", data)"),
                        eqInt("MSI_DEVID", IrqRouting.MSI_DEVID, "offsetof(" + msi + ", devid)"),
                        eqInt("msi", 16, "sizeof(" + msi + ")"),
                        eqInt("TYPE_IRQCHIP", IrqRouting.TYPE_IRQCHIP, "KVM_IRQ_ROUTING_IRQCHIP"),
                        eqInt("TYPE_MSI", IrqRouting.TYPE_MSI, "KVM_IRQ_ROUTING_MSI"),
                        eqInt("MSI_VALID_DEVID", IrqRouting.MSI_VALID_DEVID, "KVM_MSI_VALID_DEVID"),
                        eq64(
                                "KVM_SET_GSI_ROUTING",
                                KvmUapi.KVM_SET_GSI_ROUTING(),
                                "_IOW(KVMIO, 0x6a, struct kvm_irq_routing)"));
        compile("irq-routing", prelude, asserts);
    }

    @Test
    void everyNameInTheIncludeListWasGenerated() throws IOException {
        // jextract ignores unknown --include-* names silently (rc 0, no warning): catch typos here
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (String line : Files.readAllLines(JEXTRACT_DIR.resolve("kvm-includes.txt"))) {
            String[] w = line.trim().split("\\s+");
            if (w.length < 2 || w[0].startsWith("#")) continue;
            checked++;
            switch (w[0]) {
                case "--include-constant" -> {
                    if (Arrays.stream(KvmUapi.class.getDeclaredMethods())
                            .noneMatch(m -> m.getName().equals(w[1]) && m.getParameterCount() == 0))
                        missing.add(w[1]);
                }
                case "--include-struct", "--include-union" -> {
                    try {
                        Class.forName("dev.jvmm.kvm.uapi." + w[1]);
                    } catch (ClassNotFoundException e) {
                        missing.add(w[1]);
                    }
                }
                default ->
                        fail(
                                "kvm-includes.txt: unexpected option "
                                        + w[0]
                                        + " (this test knows constants and structs only)");
            }
        }
        assertTrue(checked > 500, "kvm-includes.txt looks truncated: " + checked + " entries");
        assertTrue(
                missing.isEmpty(),
                "kvm-includes.txt names not generated (typo, or absent from the pinned headers): "
                        + missing);
    }

    @Test
    void harnessReportsAFailedAssertion() throws Exception {
        // guards against a vacuous check (e.g. a compiler that ignores _Static_assert)
        uapiInclude(); // a missing setup should fail with the setup hint, not with "canary"
        AssertionError e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        AssertionError.class,
                        () ->
                                compile(
                                        "canary",
                                        List.of(
                                                eq64(
                                                        "canary",
                                                        0x6030000000100000L,
                                                        "KVM_REG_ARM64 | KVM_REG_SIZE_U64"))));
        assertTrue(e.getMessage().contains("canary"), e.getMessage());
    }

    // ---- layouts
    // ---------------------------------------------------------------------------------

    /**
     * Emits offset and size asserts for g's members; anonymous members ($anon$L:C) have no C name
     * of their own.
     */
    private static void walk(
            String type, GroupLayout g, String cPath, long base, List<String> out) {
        long running = 0;
        for (MemoryLayout ml : g.memberLayouts()) {
            long off = base + (g instanceof UnionLayout ? 0 : running);
            running += ml.byteSize();
            if (ml instanceof PaddingLayout) continue;
            String name =
                    ml.name()
                            .orElseThrow(
                                    () ->
                                            new AssertionError(
                                                    type + ": unnamed member in " + cPath));
            boolean anon = name.startsWith("$anon$");
            String path = anon ? cPath : (cPath == null ? name : cPath + "." + name);
            if (!anon) member(type, path, off, ml, out);
            descend(type, ml, path, off, out);
        }
    }

    private static void descend(
            String type, MemoryLayout ml, String path, long off, List<String> out) {
        if (ml instanceof GroupLayout child) {
            walk(type, child, path, off, out);
        } else if (ml instanceof SequenceLayout seq
                && seq.elementCount() > 0
                && (seq.elementLayout() instanceof GroupLayout
                        || seq.elementLayout() instanceof SequenceLayout)) {
            long stride = seq.elementLayout().byteSize();
            for (long i :
                    seq.elementCount() > 1
                            ? new long[] {0, seq.elementCount() - 1}
                            : new long[] {0}) {
                String p = path + "[" + i + "]";
                member(type, p, off + i * stride, seq.elementLayout(), out);
                descend(type, seq.elementLayout(), p, off + i * stride, out);
            }
        }
    }

    private static void member(
            String type, String path, long off, MemoryLayout ml, List<String> out) {
        out.add(
                String.format(
                        "_Static_assert(__builtin_offsetof(%1$s, %2$s) == %3$d, \"offsetof(%1$s, %2$s) == %3$d\");",
                        type, path, off));
        boolean flexible = ml instanceof SequenceLayout s && s.elementCount() == 0;
        if (!flexible) { // sizeof a flexible array member is not valid C
            out.add(
                    String.format(
                            "_Static_assert(sizeof(((%1$s *)0)->%2$s) == %3$d, \"sizeof(%1$s.%2$s) == %3$d\");",
                            type, path, ml.byteSize()));
        }
    }

    // ---- RegIds: independent C spellings of every name
    // -----------------------------------------------

    private static Map<String, String> cExpressionsForNames() {
        Map<String, String> m = new LinkedHashMap<>();
        String core64 =
                "KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG";
        for (int n = 0; n <= 30; n++) m.put("x" + n, core64 + "(regs.regs[" + n + "])");
        m.put("sp", core64 + "(regs.sp)");
        m.put("pc", core64 + "(regs.pc)");
        m.put("pstate", core64 + "(regs.pstate)");
        m.put("sp_el1", core64 + "(sp_el1)");
        m.put("elr_el1", core64 + "(elr_el1)");
        for (String s : new String[] {"el1", "abt", "und", "irq", "fiq"}) {
            m.put("spsr_" + s, core64 + "(spsr[KVM_SPSR_" + s.toUpperCase() + "])");
        }
        for (int n = 0; n < 32; n++) {
            m.put(
                    "v" + n,
                    "KVM_REG_ARM64 | KVM_REG_SIZE_U128 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(fp_regs.vregs["
                            + n
                            + "])");
        }
        m.put(
                "fpsr",
                "KVM_REG_ARM64 | KVM_REG_SIZE_U32 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(fp_regs.fpsr)");
        m.put(
                "fpcr",
                "KVM_REG_ARM64 | KVM_REG_SIZE_U32 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(fp_regs.fpcr)");
        // system registers: encodings from the Arm ARM; the timer ones through KVM's own (partly
        // swapped) macros
        m.put("midr_el1", "ARM64_SYS_REG(3, 0, 0, 0, 0)");
        m.put("mpidr_el1", "ARM64_SYS_REG(3, 0, 0, 0, 5)");
        m.put("revidr_el1", "ARM64_SYS_REG(3, 0, 0, 0, 6)");
        m.put("id_aa64pfr0_el1", "ARM64_SYS_REG(3, 0, 0, 4, 0)");
        m.put("id_aa64pfr1_el1", "ARM64_SYS_REG(3, 0, 0, 4, 1)");
        m.put("id_aa64dfr0_el1", "ARM64_SYS_REG(3, 0, 0, 5, 0)");
        m.put("id_aa64isar0_el1", "ARM64_SYS_REG(3, 0, 0, 6, 0)");
        m.put("id_aa64isar1_el1", "ARM64_SYS_REG(3, 0, 0, 6, 1)");
        m.put("id_aa64mmfr0_el1", "ARM64_SYS_REG(3, 0, 0, 7, 0)");
        m.put("id_aa64mmfr1_el1", "ARM64_SYS_REG(3, 0, 0, 7, 1)");
        m.put("id_aa64mmfr2_el1", "ARM64_SYS_REG(3, 0, 0, 7, 2)");
        m.put("sctlr_el1", "ARM64_SYS_REG(3, 0, 1, 0, 0)");
        m.put("cpacr_el1", "ARM64_SYS_REG(3, 0, 1, 0, 2)");
        m.put("ttbr0_el1", "ARM64_SYS_REG(3, 0, 2, 0, 0)");
        m.put("ttbr1_el1", "ARM64_SYS_REG(3, 0, 2, 0, 1)");
        m.put("tcr_el1", "ARM64_SYS_REG(3, 0, 2, 0, 2)");
        m.put("esr_el1", "ARM64_SYS_REG(3, 0, 5, 2, 0)");
        m.put("far_el1", "ARM64_SYS_REG(3, 0, 6, 0, 0)");
        m.put("par_el1", "ARM64_SYS_REG(3, 0, 7, 4, 0)");
        m.put("mair_el1", "ARM64_SYS_REG(3, 0, 10, 2, 0)");
        m.put("vbar_el1", "ARM64_SYS_REG(3, 0, 12, 0, 0)");
        m.put("contextidr_el1", "ARM64_SYS_REG(3, 0, 13, 0, 1)");
        m.put("tpidr_el1", "ARM64_SYS_REG(3, 0, 13, 0, 4)");
        m.put("cntkctl_el1", "ARM64_SYS_REG(3, 0, 14, 1, 0)");
        m.put("tpidr_el0", "ARM64_SYS_REG(3, 3, 13, 0, 2)");
        m.put("tpidrro_el0", "ARM64_SYS_REG(3, 3, 13, 0, 3)");
        m.put("cntfrq_el0", "ARM64_SYS_REG(3, 3, 14, 0, 0)");
        m.put("cntvct_el0", "KVM_REG_ARM_TIMER_CNT");
        m.put("cntv_cval_el0", "KVM_REG_ARM_TIMER_CVAL");
        m.put("cntv_ctl_el0", "KVM_REG_ARM_TIMER_CTL");
        m.put("cntpct_el0", "KVM_REG_ARM_PTIMER_CNT");
        m.put("cntp_ctl_el0", "KVM_REG_ARM_PTIMER_CTL");
        m.put("cntp_cval_el0", "KVM_REG_ARM_PTIMER_CVAL");
        m.put("psci_version", "KVM_REG_ARM_PSCI_VERSION");
        m.put("smccc_arch_workaround_1", "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1");
        m.put("smccc_arch_workaround_2", "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2");
        m.put("smccc_arch_workaround_3", "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3");
        m.put("std_bmap", "KVM_REG_ARM_STD_BMAP");
        m.put("std_hyp_bmap", "KVM_REG_ARM_STD_HYP_BMAP");
        m.put("vendor_hyp_bmap", "KVM_REG_ARM_VENDOR_HYP_BMAP");
        m.put("vendor_hyp_bmap_2", "KVM_REG_ARM_VENDOR_HYP_BMAP_2");
        return m;
    }

    private static String eq64(String what, long java, String cExpr) {
        return String.format(
                "_Static_assert((unsigned long long)(%1$s) == 0x%2$xULL, \"RegIds.%3$s == 0x%2$x\");",
                cExpr, java, what.replace("\"", "\\\""));
    }

    private static String eqInt(String what, int java, String cExpr) {
        return String.format(
                "_Static_assert((long long)(%1$s) == %2$dLL, \"RegIds.%3$s == %2$d\");",
                cExpr, java, what);
    }

    // ---- reflection over the generated package
    // ----------------------------------------------------

    private static List<Method> constantMethods() {
        return Arrays.stream(KvmUapi.class.getDeclaredMethods())
                .filter(
                        m ->
                                Modifier.isPublic(m.getModifiers())
                                        && Modifier.isStatic(m.getModifiers()))
                .filter(m -> m.getParameterCount() == 0)
                .filter(m -> m.getReturnType() == int.class || m.getReturnType() == long.class)
                .sorted(Comparator.comparing(Method::getName))
                .toList();
    }

    /** Top-level generated classes with a static {@code layout()}: one per C struct/union. */
    private static List<Class<?>> structClasses()
            throws IOException, URISyntaxException, ClassNotFoundException {
        Path pkg =
                Path.of(KvmUapi.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                        .resolve("dev/jvmm/kvm/uapi");
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(pkg)) {
            for (String f :
                    files.map(p -> p.getFileName().toString())
                            .filter(
                                    f ->
                                            f.endsWith(".class")
                                                    && !f.contains("$")
                                                    && !f.equals("KvmUapi.class"))
                            .sorted()
                            .toList()) {
                Class<?> c =
                        Class.forName(
                                "dev.jvmm.kvm.uapi."
                                        + f.substring(0, f.length() - ".class".length()));
                try {
                    if (MemoryLayout.class.isAssignableFrom(c.getMethod("layout").getReturnType()))
                        out.add(c);
                } catch (NoSuchMethodException notAStruct) {
                    // not a struct class
                }
            }
        }
        // exactly the structs the include list names: none missing, no stale class left over
        List<String> listed = new ArrayList<>();
        for (String line : Files.readAllLines(JEXTRACT_DIR.resolve("kvm-includes.txt"))) {
            String[] w = line.trim().split("\\s+");
            if (w.length == 2
                    && (w[0].equals("--include-struct") || w[0].equals("--include-union")))
                listed.add(w[1]);
        }
        assertEquals(
                listed.stream().sorted().toList(),
                out.stream().map(Class::getSimpleName).sorted().toList(),
                "generated struct classes in " + pkg + " vs kvm-includes.txt");
        return out;
    }

    // ---- compiler
    // ---------------------------------------------------------------------------------

    private static Path uapiInclude() {
        List<String> tried = new ArrayList<>();
        String prop = System.getProperty("jvmm.uapi.dir");
        String env = System.getenv("JVMM_UAPI_DIR");
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache =
                (xdg != null && !xdg.isEmpty()
                                ? Path.of(xdg)
                                : Path.of(System.getProperty("user.home"), ".cache"))
                        .resolve("jvmm/uapi-arm64");
        for (String d :
                prop != null
                        ? List.of(prop)
                        : env != null ? List.of(env) : List.of(cache.toString())) {
            for (Path inc :
                    List.of(
                            Path.of(d, "usr/include"),
                            Path.of(d))) { // cache root or the include dir itself
                tried.add(inc.toString());
                if (Files.isRegularFile(inc.resolve("aarch64-linux-gnu/asm/kvm.h"))
                        && Files.isRegularFile(inc.resolve("linux/kvm.h"))) {
                    return inc;
                }
            }
        }
        fail(
                "arm64 uapi headers not found (looked in "
                        + String.join(", ", tried)
                        + "): "
                        + SETUP_HINT);
        return null;
    }

    private static String run(List<String> cmd, Path log) throws IOException, InterruptedException {
        Process p =
                new ProcessBuilder(cmd)
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail(String.join(" ", cmd) + " did not finish in 5 minutes");
        }
        String text = Files.readString(log, StandardCharsets.UTF_8);
        return p.exitValue() == 0 ? text : "\0" + text;
    }

    /**
     * Writes the asserts to target/bindings-check/NAME.c and compiles it; fails listing the failed
     * asserts.
     */
    private static void compile(String name, List<String> asserts)
            throws IOException, InterruptedException {
        compile(name, "", asserts);
    }

    /**
     * {@code prelude}: C text after the standard includes (more headers, definitions they assume).
     */
    private static void compile(String name, String prelude, List<String> asserts)
            throws IOException, InterruptedException {
        Path inc = uapiInclude();
        Files.createDirectories(OUT_DIR);
        Path log = OUT_DIR.resolve(name + ".log");
        String gccInclude;
        try {
            gccInclude = run(List.of(GCC, "-print-file-name=include"), log).trim();
        } catch (IOException e) {
            fail(GCC + " not found: " + SETUP_HINT);
            return;
        }
        if (gccInclude.startsWith("\0") || !Files.isRegularFile(Path.of(gccInclude, "stddef.h"))) {
            fail(
                    GCC
                            + " has no usable include dir ("
                            + gccInclude.replace("\0", "").trim()
                            + "): "
                            + SETUP_HINT);
        }
        StringBuilder c = new StringBuilder();
        c.append("/* generated by BindingsMatchCompilerTest: ")
                .append(asserts.size())
                .append(" checks */\n")
                .append("#include <stddef.h>\n#include \"kvm_vmm.h\"\n")
                .append("#ifndef KVM_REG_ARM_VENDOR_HYP_BMAP_2 /* Linux 6.16+ */\n")
                .append(
                        "#define KVM_REG_ARM_VENDOR_HYP_BMAP_2 KVM_REG_ARM_FW_FEAT_BMAP_REG(3)\n#endif\n")
                .append(prelude);
        asserts.forEach(a -> c.append(a).append('\n'));
        Path src = OUT_DIR.resolve(name + ".c");
        // Debian's uapi linux/if.h includes glibc's <sys/socket.h> for struct sockaddr; there is no
        // libc here
        Path stub = OUT_DIR.resolve("libc-stub");
        Files.createDirectories(stub.resolve("sys"));
        Files.writeString(
                stub.resolve("sys/socket.h"),
                "#pragma once\nstruct sockaddr { unsigned short sa_family; char sa_data[14]; };\n");
        Files.writeString(src, c, StandardCharsets.UTF_8);
        String out =
                run(
                        List.of(
                                GCC,
                                "-std=gnu11",
                                "-fsyntax-only",
                                "-fmax-errors=0",
                                "-nostdinc",
                                "-isystem",
                                gccInclude,
                                "-I",
                                inc.resolve("aarch64-linux-gnu").toString(),
                                "-I",
                                inc.toString(),
                                "-I",
                                JEXTRACT_DIR.toString(),
                                "-idirafter",
                                stub.toString(),
                                src.toString()),
                        log);
        if (out.startsWith("\0")) {
            List<String> errors = out.lines().filter(l -> l.contains("error:")).toList();
            List<String> failed =
                    errors.stream()
                            .filter(l -> l.contains("static assertion failed"))
                            .map(
                                    l ->
                                            l.substring(
                                                            l.indexOf("static assertion failed:")
                                                                    + "static assertion failed:"
                                                                            .length())
                                                    .trim())
                            .toList();
            String shown =
                    (failed.isEmpty() ? errors : failed)
                            .stream().limit(20).collect(Collectors.joining("\n  "));
            fail(
                    name
                            + ": "
                            + failed.size()
                            + " of "
                            + asserts.size()
                            + " checks disagree with "
                            + GCC
                            + " on "
                            + inc
                            + " ("
                            + errors.size()
                            + " errors; "
                            + src
                            + ", log "
                            + log
                            + "):\n  "
                            + shown);
        }
        System.out.println(
                "BindingsMatchCompilerTest: "
                        + name
                        + ": "
                        + asserts.size()
                        + " checks match "
                        + GCC);
    }
}
