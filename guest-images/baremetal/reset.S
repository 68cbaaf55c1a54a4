/* reset.img: prints BAREMETAL-RESET, then PSCI SYSTEM_RESET (the VMM should report a reset). */
#include "common.S"
	image_header
main:
	puts	msg
	psci	PSCI_SYSTEM_RESET
	b	.
	.section .rodata
msg:	.asciz	"BAREMETAL-RESET\r\n"
