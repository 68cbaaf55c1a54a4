/* sdei-wfi.img: a vCPU blocked in WFI is woken by a host-raised event (run with --sdei
 * --sdei-event 100,private,normal). After SDEI-READY the guest sleeps in WFI with no interrupt that
 * could ever wake it: only jvmm's kick gets the vCPU out of KVM's WFI block to take the event. The
 * handler leaves with COMPLETE_AND_RESUME to after the loop, so the guest never sleeps again. */
#include "common.S"
#include "sdei.inc"
	image_header
main:
	mov	x28, #0
	puts	msg_start
	sdei_register 100, handler, 0xD1D1
	check	x0, xzr, n_register
	sdei_enable 100
	check	x0, xzr, n_enable
	hvc_call SDEI_PE_UNMASK
	check	x0, xzr, n_unmask
waiting:
	puts	msg_ready
loop:
	wfi
	b	loop
loop_end:

handler:
	adr	x9, saved
	stp	x0, x2, [x9]
	ldr	x0, =SDEI_EVENT_COMPLETE_AND_RESUME
	adr	x1, woken
	hvc	#0
	puts_lo	msg_returned
	b	.

woken:
	adr	x19, saved
	ldr	x0, [x19]
	mov	x1, #100
	check	x0, x1, n_event
	ldr	x0, [x19, #8]			/* interrupted PC: in the WFI loop (or just before, at worst) */
	adr	x1, waiting
	sub	x0, x0, x1
	cmp	x0, #(loop_end - waiting)
	cset	x0, hs
	check	x0, xzr, n_in_loop
	finish	msg_pass, msg_fail

	.section .rodata
msg_start:	.asciz	"SDEI-W start\r\n"
msg_ready:	.asciz	"SDEI-READY\r\n"
msg_pass:	.asciz	"SDEI-W PASS\r\n"
msg_fail:	.asciz	"SDEI-W FAIL\r\n"
msg_returned:	.asciz	"SDEI-W FAIL: COMPLETE_AND_RESUME returned\r\n"
n_register:	.asciz	"register"
n_enable:	.asciz	"enable"
n_unmask:	.asciz	"unmask"
n_event:	.asciz	"handler x0 = 100"
n_in_loop:	.asciz	"interrupted in the WFI loop"
	.data
	.balign	8
saved:		.space	16
