/* sdei-resume.img: EVENT_COMPLETE_AND_RESUME (run with --sdei).
 * Registers event 0, signals it to itself: the event is taken right after the EVENT_SIGNAL call
 * returns. The handler resumes at resume_point; there ELR_EL1/SPSR_EL1 must hold the interrupted PC and
 * PSTATE (as if an IRQ had been taken there), PSTATE must be EL1h with DAIF masked, and x0..x17 the
 * interrupted values (x0..x3: EVENT_SIGNAL's result registers). */
#include "common.S"
#include "sdei.inc"
	image_header
main:
	mov	x28, #0
	puts	msg_start
	sdei_register 0, handler, 0xC1C1
	check	x0, xzr, n_register
	sdei_enable 0
	check	x0, xzr, n_enable
	hvc_call SDEI_PE_UNMASK
	check	x0, xzr, n_unmask
	ldr	x20, =0x0C0C0000
	.irp r,4,5,6,7,8,9,10,11,12,13,14,15,16,17
	add	x\r, x20, #\r
	.endr
	mrs	x2, mpidr_el1
	and	x2, x2, #0xffffff
	mov	x1, #0
	ldr	x0, =SDEI_EVENT_SIGNAL
	cmp	xzr, xzr			/* NZCV = 0110 */
	hvc	#0
after_signal:
	puts	msg_not_resumed
	b	.

handler:
	adr	x9, saved
	stp	x0, x1, [x9]
	stp	x2, x3, [x9, #16]
	ldr	x0, =SDEI_EVENT_COMPLETE_AND_RESUME
	adr	x1, resume_point
	hvc	#0
	puts_lo	msg_returned
	b	.

resume_point:
	adr	x19, regs			/* x0..x17 exactly as at the interruption */
	.irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17
	str	x\r, [x19, #(\r * 8)]
	.endr
	mrs	x21, elr_el1
	mrs	x22, spsr_el1
	mrs	x23, daif
	mrs	x26, CurrentEL
	mov	x1, #0
	ldr	x0, [x19]
	check	x0, x1, n_x0_result
	mov	x1, #0
	ldr	x0, [x19, #8]
	check	x0, x1, n_x1_zero
	mov	x2, #0
	mov	x23, #0
	.irp r,4,5,6,7,8,9,10,11,12,13,14,15,16,17
	ldr	x0, [x19, #(\r * 8)]
	add	x1, x20, #\r
	cmp	x0, x1
	cinc	x23, x23, ne
	.endr
	check	x23, xzr, n_x4_x17
	adr	x1, after_signal
	check	x21, x1, n_elr
	ldr	x1, =PSTATE_EL1H_MASKED_ZC
	check	x22, x1, n_spsr
	mrs	x23, daif
	mov	x1, #0x3c0
	check	x23, x1, n_daif
	mov	x1, #4
	check	x26, x1, n_el
	adr	x19, saved
	ldr	x0, [x19]
	check	x0, xzr, n_h_x0
	ldr	x0, [x19, #16]
	adr	x1, after_signal
	check	x0, x1, n_h_x2
	finish	msg_pass, msg_fail

	.section .rodata
msg_start:	.asciz	"SDEI-C start\r\n"
msg_pass:	.asciz	"SDEI-C PASS\r\n"
msg_fail:	.asciz	"SDEI-C FAIL\r\n"
msg_not_resumed: .asciz	"SDEI-C FAIL: returned to the interrupted context\r\n"
msg_returned:	.asciz	"SDEI-C FAIL: COMPLETE_AND_RESUME returned\r\n"
n_register:	.asciz	"register"
n_enable:	.asciz	"enable"
n_unmask:	.asciz	"unmask"
n_x0_result:	.asciz	"x0 = EVENT_SIGNAL result"
n_x1_zero:	.asciz	"x1 = 0"
n_x4_x17:	.asciz	"x4..x17 restored"
n_elr:		.asciz	"ELR_EL1 = interrupted pc"
n_spsr:		.asciz	"SPSR_EL1 = interrupted pstate"
n_daif:		.asciz	"resumed with daif masked"
n_el:		.asciz	"resumed at EL1"
n_h_x0:		.asciz	"handler x0 = 0"
n_h_x2:		.asciz	"handler x2 = after the hvc"
	.data
	.balign	8
saved:		.space	32
regs:		.space	(18 * 8)
