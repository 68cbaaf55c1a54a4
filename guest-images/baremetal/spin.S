/* spin.img: prints BAREMETAL-SPIN, then loops forever (for timeouts, signals, pause/kill). */
#include "common.S"
	image_header
main:
	puts	msg
1:	b	1b
	.section .rodata
msg:	.asciz	"BAREMETAL-SPIN\r\n"
