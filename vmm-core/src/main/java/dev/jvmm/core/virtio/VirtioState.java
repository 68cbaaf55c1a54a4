package dev.jvmm.core.virtio;

import java.util.List;
import java.util.Map;

/**
 * What a snapshot keeps of a virtio transport's {@link VirtioCore} and its device: the registers as
 * the driver left them, each queue ({@link VirtqueueState}), and the device's own state. It is the
 * whole record of a {@link VirtioMmioTransport}, and the virtio part of a virtio-pci transport's
 * (whose common configuration has the same three selectors and whose ISR is the interrupt status).
 * The backend's identity (disk image, tap) is not here: the machine opens the same backends from
 * the snapshot's configuration and checks them itself.
 *
 * @param status device status (without NEEDS_RESET, which is {@code needsReset})
 * @param deviceFeaturesSel DeviceFeaturesSel (virtio-pci: device_feature_select)
 * @param driverFeaturesSel DriverFeaturesSel (virtio-pci: driver_feature_select)
 * @param driverFeatures the driver's feature bits (negotiated once status has FEATURES_OK)
 * @param queueSel QueueSel (virtio-pci: queue_select)
 * @param interruptStatus InterruptStatus bits the driver has not acknowledged (virtio-pci: the ISR
 *     bits a read has not yet taken)
 * @param configGeneration ConfigGeneration
 * @param needsReset the device waits for a driver reset after a fatal guest error
 * @param queues one per device queue, in order
 * @param device the device's own state ({@link VirtioDevice#saveDeviceState}) as a JSON object, or
 *     null when it has none
 */
public record VirtioState(
        int status,
        int deviceFeaturesSel,
        int driverFeaturesSel,
        long driverFeatures,
        int queueSel,
        int interruptStatus,
        int configGeneration,
        boolean needsReset,
        List<VirtqueueState> queues,
        Map<String, Object> device) {}
