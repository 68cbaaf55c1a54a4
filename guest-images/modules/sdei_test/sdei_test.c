// SPDX-License-Identifier: GPL-2.0
/*
 * sdei_test: registers and enables one SDEI event through the kernel's SDEI driver
 * (drivers/firmware/arm_sdei.c) so that jvmm's boot tier can raise it from the host and see the
 * handler run in a stock Debian kernel. The handler runs NMI-like (it may interrupt code with IRQs
 * masked), so it only counts and records the CPU; the count is readable as the module parameter
 * "fired", and the message is printed from process context when the parameter is read.
 *
 * Debian's 6.12 kernel does not export the SDEI client API (its only user, GHES, is built in), so the
 * module finds sdei_event_register/enable/disable/unregister through a kprobe, the way out-of-tree
 * modules locate kernel functions since kallsyms_lookup_name() stopped being exported.
 */
#include <linux/arm_sdei.h>
#include <linux/atomic.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/smp.h>

static unsigned int event = 100;
module_param(event, uint, 0444);
MODULE_PARM_DESC(event, "SDEI event number to register");

static atomic_t fired = ATOMIC_INIT(0);
static atomic_t fired_cpu = ATOMIC_INIT(-1);

static int fired_get(char *buf, const struct kernel_param *kp)
{
	int n = atomic_read(&fired);

	if (n)
		pr_info("sdei_test: event %u handled %d time(s), last on CPU %d\n", event, n,
			atomic_read(&fired_cpu));
	return sysfs_emit(buf, "%d\n", n);
}

static const struct kernel_param_ops fired_ops = { .get = fired_get };
module_param_cb(fired, &fired_ops, NULL, 0444);
MODULE_PARM_DESC(fired, "How many times the SDEI handler ran");

static int (*event_register)(u32 event, sdei_event_callback *cb, void *arg);
static int (*event_enable)(u32 event);
static int (*event_disable)(u32 event);
static int (*event_unregister)(u32 event);

static void *lookup(const char *name)
{
	struct kprobe kp = { .symbol_name = name };
	void *addr;

	if (register_kprobe(&kp) < 0)
		return NULL;
	addr = kp.addr;
	unregister_kprobe(&kp);
	return addr;
}

static int sdei_test_handler(u32 ev, struct pt_regs *regs, void *arg)
{
	atomic_set(&fired_cpu, smp_processor_id());
	atomic_inc(&fired);
	return 0;
}

static int __init sdei_test_init(void)
{
	int err;

	event_register = lookup("sdei_event_register");
	event_enable = lookup("sdei_event_enable");
	event_disable = lookup("sdei_event_disable");
	event_unregister = lookup("sdei_event_unregister");
	if (!event_register || !event_enable || !event_disable || !event_unregister) {
		pr_err("sdei_test: the kernel's SDEI client functions were not found\n");
		return -ENOENT;
	}
	err = event_register(event, sdei_test_handler, NULL);

	if (err) {
		pr_err("sdei_test: registering event %u failed: %d\n", event, err);
		return err;
	}
	err = event_enable(event);
	if (err) {
		pr_err("sdei_test: enabling event %u failed: %d\n", event, err);
		event_unregister(event);
		return err;
	}
	pr_info("sdei_test: event %u registered and enabled\n", event);
	return 0;
}

static void __exit sdei_test_exit(void)
{
	event_disable(event);
	event_unregister(event);
}

module_init(sdei_test_init);
module_exit(sdei_test_exit);
MODULE_DESCRIPTION("jvmm boot-tier test: an SDEI event handled in a guest module");
MODULE_LICENSE("GPL");
