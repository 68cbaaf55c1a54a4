/* sve-reboot.img (run with --on-reset reboot): the SVE check of sve.img on two boots of one VM.
 * The first boot leaves a marker in RAM past the image (an in-place reboot reloads the image but
 * keeps RAM) and resets; the second finds it, clears it, prints SVE-REBOOT-OK and powers off. Each
 * boot prints its "SVE-VL-BYTES=<n>": an in-place reboot must keep SVE and its vector length. */
#include "common.S"
#include "trap.inc"
#include "sve.inc"
#define MARKER 0x5356455245424f4f	/* "SVEREBOO" */
	image_header
main:
	setup_stack
	install_vectors
	bl	sve_check
	adr	x19, _end
	add	x19, x19, #0x10000	/* 64 KiB past the image: nothing is loaded there */
	ldr	x1, =MARKER
	ldr	x0, [x19]
	cmp	x0, x1
	b.eq	1f
	str	x1, [x19]
	say	msg_first
	psci	PSCI_SYSTEM_RESET
	b	.
1:	str	xzr, [x19]
	say	msg_second
	psci	PSCI_SYSTEM_OFF
	b	.
	.section .rodata
msg_first:	.asciz	"SVE-FIRST-BOOT\r\n"
msg_second:	.asciz	"SVE-REBOOT-OK\r\n"
