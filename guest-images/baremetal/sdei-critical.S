/* sdei-critical.img: a critical event pre-empts a running normal one (run with --sdei
 * --sdei-event 100,private,normal --sdei-event 200,private,critical). The host injects 100 after
 * SDEI-READY; its handler prints SDEI-IN-NORMAL and waits; the host injects 200, whose handler must run
 * on top of the normal one (its x2 is an address in the normal handler) and complete back into it. */
#include "common.S"
#include "sdei.inc"
	image_header
main:
	mov	x28, #0
	puts	msg_start
	sdei_register 100, normal, 0x100
	check	x0, xzr, n_register_normal
	sdei_register 200, critical, 0x200
	check	x0, xzr, n_register_critical
	sdei_enable 100
	check	x0, xzr, n_enable_normal
	sdei_enable 200
	check	x0, xzr, n_enable_critical
	hvc_call SDEI_PE_UNMASK
	check	x0, xzr, n_unmask
	puts	msg_ready
	wait_flag done

	adr	x19, trace			/* the order things happened in */
	ldr	x0, [x19]
	ldr	x1, =0x1234
	check	x0, x1, n_order
	adr	x19, crit_saved
	ldr	x0, [x19]
	mov	x1, #200
	check	x0, x1, n_crit_x0
	ldr	x0, [x19, #16]			/* interrupted PC: inside the normal handler */
	adr	x1, normal
	sub	x0, x0, x1
	adr	x2, normal_end
	sub	x2, x2, x1
	cmp	x0, x2
	cset	x0, hs				/* 0 when normal <= pc < normal_end */
	check	x0, xzr, n_crit_x2
	ldr	x0, [x19, #24]
	mov	x1, #0x3cf			/* mode and DAIF; the flags are the normal handler's */
	and	x0, x0, x1
	mov	x1, #0x3c5
	check	x0, x1, n_crit_x3
	finish	msg_pass, msg_fail

/* trace <- trace * 16 + \step; uses x9..x11 */
.macro step n
	adr	x9, trace
	ldr	x10, [x9]
	mov	x11, #\n
	add	x10, x11, x10, lsl #4
	str	x10, [x9]
.endm

normal:
	step	1
	puts_lo	msg_in_normal
	adr	x12, crit_done
normal_wait:
	ldr	w13, [x12]
	cbz	w13, normal_wait
	step	4
	set_flag done
	ldr	x0, =SDEI_EVENT_COMPLETE
	mov	x1, #0
	hvc	#0
normal_end:
	b	.

critical:
	adr	x9, crit_saved
	stp	x0, x1, [x9]
	stp	x2, x3, [x9, #16]
	step	2
	step	3
	set_flag crit_done
	ldr	x0, =SDEI_EVENT_COMPLETE
	mov	x1, #0
	hvc	#0
	b	.

	.section .rodata
msg_start:	.asciz	"SDEI-D start\r\n"
msg_ready:	.asciz	"SDEI-READY\r\n"
msg_in_normal:	.asciz	"SDEI-IN-NORMAL\r\n"
msg_pass:	.asciz	"SDEI-D PASS\r\n"
msg_fail:	.asciz	"SDEI-D FAIL\r\n"
n_register_normal:   .asciz "register 100"
n_register_critical: .asciz "register 200"
n_enable_normal:     .asciz "enable 100"
n_enable_critical:   .asciz "enable 200"
n_unmask:	.asciz	"unmask"
n_order:	.asciz	"normal start, critical start, critical end, normal end"
n_crit_x0:	.asciz	"critical handler x0 = 200"
n_crit_x2:	.asciz	"critical interrupted the normal handler"
n_crit_x3:	.asciz	"critical interrupted EL1h with daif masked"
	.data
	.balign	8
done:		.quad	0
crit_done:	.quad	0
trace:		.quad	0
crit_saved:	.space	32
