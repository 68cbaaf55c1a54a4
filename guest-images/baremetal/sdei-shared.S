/* sdei-shared.img: state a snapshot must carry for a guest that uses both hypercall services (run
 * with --sdei --sdei-event 100,private,normal --shared-regions). Shares 0x80100000+4 pages, unshares
 * 0x80101000, shares 0x80200000+1 (the host's list: 0x80100000-0x80101000, 0x80102000-0x80104000,
 * 0x80200000-0x80201000), registers and enables event 100 on vCPU 0, unmasks, prints SDEI-READY and
 * spins until the handler has run. The host may snapshot, stop and restore it in between; the event
 * it raises afterwards must still find the registration. The handler records x0..x2 (event,
 * argument, interrupted PC) and COMPLETEs; back in the loop the guest checks them and powers off. */
#include "common.S"
#include "sdei.inc"
#define EVENT   100
#define ARG     0x5EED5EED
.macro share fn, ipa, count, name
	ldr	x1, =\ipa
	mov	x2, #\count
	mov	x3, #0
	hvc_call \fn
	check	x0, xzr, \name
.endm
	image_header
main:
	mov	x28, #0
	puts	msg_start
	share	MEM_SHARE,   RAM_BASE + 0x100000, 4, n_share1
	share	MEM_UNSHARE, RAM_BASE + 0x101000, 1, n_unshare
	share	MEM_SHARE,   RAM_BASE + 0x200000, 1, n_share2
	sdei_register EVENT, handler, ARG
	check	x0, xzr, n_register
	sdei_enable EVENT
	check	x0, xzr, n_enable
	hvc_call SDEI_PE_UNMASK
	check	x0, xzr, n_unmask
	adr	x22, handled
	puts	msg_ready
waiting:
	ldr	w21, [x22]
	cbz	w21, waiting
loop_end:
	adr	x19, saved
	ldr	x0, [x19]
	mov	x1, #EVENT
	check	x0, x1, n_x0_event
	ldr	x0, [x19, #8]
	ldr	x1, =ARG
	check	x0, x1, n_x1_arg
	ldr	x0, [x19, #16]			/* interrupted PC: in the wait loop */
	adr	x1, waiting
	sub	x0, x0, x1
	cmp	x0, #(loop_end - waiting)
	cset	x0, hs
	check	x0, xzr, n_x2_pc
	finish	msg_pass, msg_fail

/* Runs at EL1h, x0..x2 = event, argument, interrupted PC; may clobber x0..x17 only. */
handler:
	adr	x9, saved
	stp	x0, x1, [x9]
	str	x2, [x9, #16]
	set_flag handled
	ldr	x0, =SDEI_EVENT_COMPLETE
	mov	x1, #0
	hvc	#0
	puts_lo	msg_returned
	b	.

	.section .rodata
msg_start:	.asciz	"SDEI-S start\r\n"
msg_ready:	.asciz	"SDEI-READY\r\n"
msg_pass:	.asciz	"SDEI-S PASS\r\n"
msg_fail:	.asciz	"SDEI-S FAIL\r\n"
msg_returned:	.asciz	"SDEI-S FAIL: EVENT_COMPLETE returned\r\n"
n_share1:	.asciz	"share 0x80100000+4"
n_unshare:	.asciz	"unshare 0x80101000+1"
n_share2:	.asciz	"share 0x80200000+1"
n_register:	.asciz	"register"
n_enable:	.asciz	"enable"
n_unmask:	.asciz	"unmask"
n_x0_event:	.asciz	"handler x0 = event"
n_x1_arg:	.asciz	"handler x1 = argument"
n_x2_pc:	.asciz	"handler x2 = interrupted pc"
	.data
	.balign	8
handled:	.quad	0
saved:		.space	24
