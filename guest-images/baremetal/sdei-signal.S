/* sdei-signal.img: EVENT_SIGNAL from CPU 0 to CPU 1 (run with --sdei -c 2).
 * CPU 0 checks EVENT_SIGNAL's argument errors, starts CPU 1 with PSCI CPU_ON and waits for it to
 * register, enable and unmask event 0; then signals event 0 to CPU 1's MPIDR. CPU 1's handler records
 * x0..x3 and its MPIDR and COMPLETEs; CPU 0 checks what it recorded. */
#include "common.S"
#include "sdei.inc"
#define ARG     0xB1B1
	image_header
main:
	mov	x28, #0
	puts	msg_start
	mov	x1, #1				/* event 1 is not signalable */
	mov	x2, #1
	hvc_call SDEI_EVENT_SIGNAL
	mov	x1, #-2
	check	x0, x1, n_signal_event1
	mov	x1, #0
	mov	x2, #0x55			/* no PE has this affinity */
	hvc_call SDEI_EVENT_SIGNAL
	mov	x1, #-2
	check	x0, x1, n_signal_bad_pe

	mov	x1, #1				/* CPU_ON(MPIDR 1, secondary, 0) */
	adr	x2, secondary
	mov	x3, #0
	hvc_call PSCI_CPU_ON
	check	x0, xzr, n_cpu_on
	wait_flag cpu1_ready
	mov	x1, #0
	mov	x2, #1				/* CPU 1's MPIDR affinity */
	hvc_call SDEI_EVENT_SIGNAL
	check	x0, xzr, n_signal
	wait_flag handled

	adr	x19, saved
	ldr	x0, [x19]
	check	x0, xzr, n_x0_event0
	ldr	x0, [x19, #8]
	ldr	x1, =ARG
	check	x0, x1, n_x1_arg
	ldr	x0, [x19, #16]
	adr	x1, cpu1_loop
	sub	x0, x0, x1
	lsr	x0, x0, #3
	check	x0, xzr, n_x2_pc
	ldr	x0, [x19, #32]
	and	x0, x0, #0xffffff		/* Aff2..Aff0 (Aff3 is 0 here) */
	mov	x1, #1
	check	x0, x1, n_on_cpu1
	finish	msg_pass, msg_fail

secondary:					/* CPU 1: EL1h, MMU off, DAIF masked */
	sdei_register 0, handler, ARG
	cbnz	x0, 1f
	sdei_enable 0
	cbnz	x0, 1f
	hvc_call SDEI_PE_UNMASK
	cbnz	x0, 1f
	set_flag cpu1_ready
	adr	x22, never
cpu1_loop:
	ldr	w21, [x22]
	cbz	w21, cpu1_loop
1:	puts_lo	msg_cpu1_failed
	b	.

handler:
	adr	x9, saved
	stp	x0, x1, [x9]
	stp	x2, x3, [x9, #16]
	mrs	x10, mpidr_el1
	str	x10, [x9, #32]
	set_flag handled
	ldr	x0, =SDEI_EVENT_COMPLETE
	mov	x1, #0
	hvc	#0
	b	.

	.section .rodata
msg_start:	.asciz	"SDEI-B start\r\n"
msg_pass:	.asciz	"SDEI-B PASS\r\n"
msg_fail:	.asciz	"SDEI-B FAIL\r\n"
msg_cpu1_failed: .asciz	"SDEI-B FAIL: cpu1 set-up or loop exit\r\n"
n_signal_event1: .asciz	"EVENT_SIGNAL event 1 invalid"
n_signal_bad_pe: .asciz	"EVENT_SIGNAL unknown PE invalid"
n_cpu_on:	.asciz	"CPU_ON cpu1"
n_signal:	.asciz	"EVENT_SIGNAL cpu1"
n_x0_event0:	.asciz	"cpu1 handler x0 = 0"
n_x1_arg:	.asciz	"cpu1 handler x1 = argument"
n_x2_pc:	.asciz	"cpu1 handler x2 = cpu1 loop"
n_on_cpu1:	.asciz	"handler ran on cpu1"
	.data
	.balign	8
cpu1_ready:	.quad	0
handled:	.quad	0
never:		.quad	0
saved:		.space	40
