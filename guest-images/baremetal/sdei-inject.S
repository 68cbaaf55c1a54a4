/* sdei-inject.img: SDEI delivery of a host-injected event (run with --sdei --sdei-event 100,private,normal).
 * Registers event 100, enables it, unmasks, prints SDEI-READY and spins with x0..x17 holding a pattern
 * and DAIF masked (SDEI events are not maskable by DAIF). The host injects event 100; the handler
 * records x0..x3 (event, argument, interrupted PC, interrupted PSTATE), its own PSTATE, EVENT_CONTEXT
 * 0..18, clobbers x0..x17 and COMPLETEs. Back in the loop, x0..x17 must hold the pattern again. */
#include "common.S"
#include "sdei.inc"
#define EVENT   100
#define ARG     0xA5A5F00D
	image_header
main:
	mov	x28, #0
	puts	msg_start
	hvc_call SDEI_VERSION
	ldr	x1, =0x00010001004a564d
	check	x0, x1, n_version
	sdei_register EVENT, handler, ARG
	check	x0, xzr, n_register
	sdei_enable EVENT
	check	x0, xzr, n_enable
	hvc_call SDEI_PE_UNMASK
	check	x0, xzr, n_unmask
	adr	x22, handled
	ldr	x20, =0x0B0B0000
	.irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17
	add	x\r, x20, #\r
	.endr
	cmp	xzr, xzr			/* NZCV = 0110: part of the expected interrupted PSTATE */
	/* only now say READY (the host raises the event on it), with registers outside x0..x17 and
	 * without touching the flags: from here on the interrupted context is the pattern */
waiting:
	mov	x23, #UART_BASE
	adr	x24, msg_ready
1:	ldrb	w25, [x24], #1
	cbz	w25, loop
	strb	w25, [x23]
	b	1b
loop:
	ldr	w21, [x22]
	cbz	w21, loop
loop_end:
	mov	x23, #0				/* x0..x17 must be the pattern again */
	.irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17
	add	x21, x20, #\r
	cmp	x\r, x21
	cinc	x23, x23, ne
	.endr
	check	x23, xzr, n_restored

	adr	x19, saved
	ldr	x0, [x19]
	mov	x1, #EVENT
	check	x0, x1, n_x0_event
	ldr	x0, [x19, #8]
	ldr	x1, =ARG
	check	x0, x1, n_x1_arg
	ldr	x0, [x19, #16]			/* interrupted PC: after READY, in the wait */
	adr	x1, waiting
	sub	x0, x0, x1
	adr	x2, loop_end
	sub	x2, x2, x1
	cmp	x0, x2
	cset	x0, hs				/* 0 when waiting <= pc < loop_end */
	check	x0, xzr, n_x2_pc
	ldr	x0, [x19, #24]
	ldr	x1, =PSTATE_EL1H_MASKED_ZC
	check	x0, x1, n_x3_pstate
	ldr	x0, [x19, #32]
	mov	x1, #0x3c0
	check	x0, x1, n_handler_daif
	ldr	x0, [x19, #40]
	mov	x1, #4				/* CurrentEL: EL1 */
	check	x0, x1, n_handler_el
	ldr	x0, [x19, #48]
	mov	x1, #1				/* SPSel: SP_EL1 (EL1h) */
	check	x0, x1, n_handler_spsel

	adr	x19, context			/* EVENT_CONTEXT(i) == pattern i */
	mov	x23, #0
	mov	x21, #0
1:	ldr	x0, [x19, x21, lsl #3]
	add	x1, x20, x21
	cmp	x0, x1
	cinc	x23, x23, ne
	add	x21, x21, #1
	cmp	x21, #18
	b.ne	1b
	check	x23, xzr, n_context
	ldr	x0, [x19, #(18 * 8)]
	mov	x1, #-2				/* INVALID_PARAMETERS for index 18 */
	check	x0, x1, n_context18
	finish	msg_pass, msg_fail

/* Runs at EL1h, DAIF masked, x0..x3 = event, argument, interrupted PC, interrupted PSTATE. */
handler:
	adr	x9, saved
	stp	x0, x1, [x9]
	stp	x2, x3, [x9, #16]
	mrs	x10, daif
	mrs	x11, CurrentEL
	stp	x10, x11, [x9, #32]
	mrs	x10, SPSel
	str	x10, [x9, #48]
	adr	x13, context
	mov	x12, #0
1:	ldr	x0, =SDEI_EVENT_CONTEXT
	mov	x1, x12
	hvc	#0
	str	x0, [x13, x12, lsl #3]
	add	x12, x12, #1
	cmp	x12, #19
	b.ne	1b
	.irp r,4,5,6,7,8,9,10,11,12,13,14,15,16,17	/* COMPLETE must undo this */
	mov	x\r, #0xdead
	.endr
	set_flag handled
	ldr	x0, =SDEI_EVENT_COMPLETE
	mov	x1, #0
	hvc	#0
	puts_lo	msg_returned
	b	.

	.section .rodata
msg_start:	.asciz	"SDEI-A start\r\n"
msg_ready:	.asciz	"SDEI-READY\r\n"
msg_pass:	.asciz	"SDEI-A PASS\r\n"
msg_fail:	.asciz	"SDEI-A FAIL\r\n"
msg_returned:	.asciz	"SDEI-A FAIL: EVENT_COMPLETE returned\r\n"
n_version:	.asciz	"version"
n_register:	.asciz	"register"
n_enable:	.asciz	"enable"
n_unmask:	.asciz	"unmask"
n_restored:	.asciz	"x0..x17 restored"
n_x0_event:	.asciz	"handler x0 = event"
n_x1_arg:	.asciz	"handler x1 = argument"
n_x2_pc:	.asciz	"handler x2 = interrupted pc"
n_x3_pstate:	.asciz	"handler x3 = interrupted pstate"
n_handler_daif:	.asciz	"handler daif masked"
n_handler_el:	.asciz	"handler at EL1"
n_handler_spsel: .asciz	"handler on SP_EL1"
n_context:	.asciz	"EVENT_CONTEXT 0..17"
n_context18:	.asciz	"EVENT_CONTEXT 18 invalid"
	.data
	.balign	8
handled:	.quad	0
saved:		.space	56
context:	.space	(19 * 8)
