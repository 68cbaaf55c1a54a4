/* shared.img: the pKVM memory-sharing calls (run with -m 64 --shared-regions). Prints each call's
 * x0/x1 as "R <name> x0=.. x1=.." for the host test to compare, then "SHARED DONE" and spins, so the
 * host can read the shared-region list jvmm keeps while the guest runs (jvmm ctl shared-regions).
 * Also prints what SDEI_VERSION answers (NOT_SUPPORTED without --sdei). */
#include "common.S"
#include "sdei.inc"
.macro share fn, ipa, count, name
	ldr	x1, =\ipa
	mov	x2, #\count
	mov	x3, #0
	hvc_call \fn
	result	\name, x0, x1
.endm
	image_header
main:
	mov	x28, #0
	puts	msg_start
	hvc_call SDEI_VERSION
	result	n_sdei, x0, xzr
	hvc_call KVM_FEATURES
	result	n_features, x0, x2
	mov	x1, #0
	mov	x2, #0
	mov	x3, #0
	hvc_call HYP_MEMINFO
	result	n_meminfo, x0, x1
	share	MEM_SHARE,   RAM_BASE + 0x100000, 4, n_share1
	share	MEM_SHARE,   RAM_BASE + 0x104000, 2, n_share2
	share	MEM_SHARE,   RAM_BASE + 0x200000, 0, n_share3
	share	MEM_UNSHARE, RAM_BASE + 0x101000, 1, n_unshare1
	share	MEM_SHARE,   RAM_BASE + 0x105000, 1, n_again
	share	MEM_UNSHARE, RAM_BASE + 0x300000, 1, n_never
	share	MEM_SHARE,   RAM_BASE + 0x400800, 1, n_misaligned
	share	MEM_SHARE,   0x40000000, 1, n_below
	share	MEM_SHARE,   RAM_BASE + 0x3fff000, 2, n_past
	puts	msg_done
	b	.

	.section .rodata
msg_start:	.asciz	"SHARED start\r\n"
msg_done:	.asciz	"SHARED DONE\r\n"
n_sdei:		.asciz	"R sdei_version"
n_features:	.asciz	"R features(x0,x2)"
n_meminfo:	.asciz	"R meminfo"
n_share1:	.asciz	"R share 0x80100000+4"
n_share2:	.asciz	"R share 0x80104000+2"
n_share3:	.asciz	"R share 0x80200000+0"
n_unshare1:	.asciz	"R unshare 0x80101000+1"
n_again:	.asciz	"R share 0x80105000+1"
n_never:	.asciz	"R unshare 0x80300000+1"
n_misaligned:	.asciz	"R share 0x80400800+1"
n_below:	.asciz	"R share 0x40000000+1"
n_past:		.asciz	"R share 0x83fff000+2"
