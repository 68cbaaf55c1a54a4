/* flood.img: prints BAREMETAL-FLOOD, then writes the same 64-byte line to the UART forever, as fast as
 * it can (one MMIO exit per byte): a guest whose console never stops, for stalled-reader tests. */
#include "common.S"
	image_header
main:
	puts	msg
	mov	x19, #UART_BASE
1:	adr	x0, line
2:	ldrb	w1, [x0], #1
	cbz	w1, 1b
	strb	w1, [x19]
	b	2b
	.section .rodata
msg:	.asciz	"BAREMETAL-FLOOD\r\n"
line:	.asciz	"FLOOD 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQR\r\n"
