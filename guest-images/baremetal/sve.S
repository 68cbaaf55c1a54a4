/* sve.img: runs SVE instructions and prints "SVE-VL-BYTES=<n>" and SVE-OK, or SVE-UNDEF where the
 * vCPU has no SVE (--disable-sve); then PSCI SYSTEM_OFF. See sve.inc. */
#include "common.S"
#include "trap.inc"
#include "sve.inc"
	image_header
main:
	setup_stack
	install_vectors
	bl	sve_check
	say	msg_ok
	psci	PSCI_SYSTEM_OFF
	b	.
	.section .rodata
msg_ok:	.asciz	"SVE-OK\r\n"
