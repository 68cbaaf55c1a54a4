/* hello.img: prints BAREMETAL-HELLO, then PSCI SYSTEM_OFF (the VMM should exit 0). */
#include "common.S"
	image_header
main:
	puts	msg
	psci	PSCI_SYSTEM_OFF
	b	.			/* SYSTEM_OFF does not return */
	.section .rodata
msg:	.asciz	"BAREMETAL-HELLO\r\n"
