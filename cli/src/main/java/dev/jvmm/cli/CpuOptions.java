package dev.jvmm.cli;

import dev.jvmm.core.arch.aarch64.CpuFeatures;
import dev.jvmm.core.arch.aarch64.CpuFeatures.Irqchip;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.TypeConversionException;

/** {@code run}'s vCPU feature and interrupt-controller options, spelled as kvmtool spells them. */
final class CpuOptions {
    Irqchip irqchip = Irqchip.AUTO;

    boolean pmu;

    boolean disableSve;

    boolean disablePtrauth;

    boolean mte;

    boolean disableMte;

    /** Adds these options to {@code spec}, bound to this object's fields. */
    void addOptions(CommandSpec spec) {
        spec.addOption(
                CliModel.value(
                        Irqchip.class,
                        () -> this.irqchip,
                        v -> this.irqchip = v,
                        OptionSpec.builder("--irqchip")
                                .paramLabel("auto|gicv3|gicv3-its|gicv2")
                                .converters(new IrqchipConverter())
                                .description(
                                        "In-kernel interrupt controller: auto (default: gicv3-its when virtio devices are"
                                                + " on PCI and the host's KVM has an ITS, else gicv3), gicv3, gicv3-its"
                                                + " (GICv3 with an ITS, for MSIs) or gicv2 (refused: jvmm builds GICv3"
                                                + " machines only).")));
        spec.addOption(
                CliModel.flag(
                        () -> this.pmu,
                        v -> this.pmu = v,
                        OptionSpec.builder("--pmu")
                                .description(
                                        "PMUv3 on every vCPU. Refused where the host has no PMU, or has several kinds"
                                                + " of CPU and jvmm may run on more than one (pin it with taskset).")));
        spec.addOption(
                CliModel.flag(
                        () -> this.disableSve,
                        v -> this.disableSve = v,
                        OptionSpec.builder("--disable-sve")
                                .description(
                                        "No SVE, even where KVM offers it (on by default where it does).")));
        spec.addOption(
                CliModel.flag(
                        () -> this.disablePtrauth,
                        v -> this.disablePtrauth = v,
                        OptionSpec.builder("--disable-ptrauth")
                                .description(
                                        "No pointer authentication, even where KVM offers it (on by default where it"
                                                + " does).")));
        spec.addOption(
                CliModel.flag(
                        () -> this.mte,
                        v -> this.mte = v,
                        OptionSpec.builder("--mte")
                                .description(
                                        "Memory tagging (MTE) for the guest. Refused where the host has none.")));
        spec.addOption(
                CliModel.flag(
                        () -> this.disableMte,
                        v -> this.disableMte = v,
                        OptionSpec.builder("--disable-mte")
                                .description(
                                        "No memory tagging: jvmm's default (kvmtool's spelling, accepted for its scripts).")));
    }

    /**
     * @throws UsageException for --mte with --disable-mte
     */
    CpuFeatures features() {
        if (mte && disableMte)
            throw new UsageException("--mte and --disable-mte contradict each other; give one");
        return new CpuFeatures(irqchip, pmu, !disableSve, !disablePtrauth, mte);
    }

    /** kvmtool's names, case-insensitive; anything else is one usage line. */
    static final class IrqchipConverter implements ITypeConverter<Irqchip> {
        @Override
        public Irqchip convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "auto" -> Irqchip.AUTO;
                case "gicv3" -> Irqchip.GICV3;
                case "gicv3-its" -> Irqchip.GICV3_ITS;
                case "gicv2" -> Irqchip.GICV2;
                default ->
                        throw new TypeConversionException(
                                "'"
                                        + value
                                        + "' is not an interrupt controller jvmm knows (auto,"
                                        + " gicv3, gicv3-its, gicv2)");
            };
        }
    }
}
