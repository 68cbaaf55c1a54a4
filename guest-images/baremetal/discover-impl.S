/* discover-impl.img: the DISCOVER_IMPL calls (Documentation/virt/kvm/arm/hypercalls.rst), answered by
 * jvmm from --impl-cpu. Prints what KVM_FEATURES reports for function numbers 64+ (x2: bit 0
 * DISCOVER_IMPL_VER, bit 1 DISCOVER_IMPL_CPUS, from VENDOR_HYP_BMAP_2), what DISCOVER_IMPL_VER
 * answers, and DISCOVER_IMPL_CPUS for indexes 0, 1 and 2, each as "R <name> x0=.. x1=.." for the host
 * test to compare; then "IMPL DONE" and PSCI SYSTEM_OFF. */
#include "common.S"
#include "sdei.inc"
#define DISCOVER_IMPL_VER	0xC6000040
#define DISCOVER_IMPL_CPUS	0xC6000041

/* DISCOVER_IMPL_CPUS(index): "R <name> x0=<x0> x1=<x1>" and "R <name2> x0=<x2> x1=<x3>". */
.macro impl_cpus index, name, name2
	mov	x1, #\index
	mov	x2, #0
	mov	x3, #0
	hvc_call DISCOVER_IMPL_CPUS
	mov	x20, x2
	mov	x21, x3
	result	\name, x0, x1
	result	\name2, x20, x21
.endm
	image_header
main:
	mov	x28, #0
	puts	msg_start
	hvc_call KVM_FEATURES
	result	n_features, x0, x2
	mov	x1, #0
	hvc_call DISCOVER_IMPL_VER
	mov	x20, x2
	result	n_ver, x0, x1
	result	n_count, x20, xzr
	impl_cpus 0, n_cpu0, n_cpu0b
	impl_cpus 1, n_cpu1, n_cpu1b
	impl_cpus 2, n_cpu2, n_cpu2b
	puts	msg_done
	psci	PSCI_SYSTEM_OFF
	b	.

	.section .rodata
msg_start:	.asciz	"IMPL start\r\n"
msg_done:	.asciz	"IMPL DONE\r\n"
n_features:	.asciz	"R features(x0,x2)"
n_ver:		.asciz	"R ver(x0,x1)"
n_count:	.asciz	"R ver(x2)"
n_cpu0:		.asciz	"R cpus 0 (x0,x1)"
n_cpu0b:	.asciz	"R cpus 0 (x2,x3)"
n_cpu1:		.asciz	"R cpus 1 (x0,x1)"
n_cpu1b:	.asciz	"R cpus 1 (x2,x3)"
n_cpu2:		.asciz	"R cpus 2 (x0,x1)"
n_cpu2b:	.asciz	"R cpus 2 (x2,x3)"
