/* Shared pieces of the bare-metal test guests, included by each guest's .S file.
 * The guests target kvmtool's arm64 layout: RAM at 0x80000000, an 8250 UART at 0x1000000
 * with 1-byte registers (THR at offset 0). They are position independent. */
#define UART_BASE          0x1000000
#define PSCI_SYSTEM_OFF    0x84000008
#define PSCI_SYSTEM_RESET  0x84000009

/* The arm64 Image header (Documentation/arch/arm64/booting.rst): code0 branches past it. */
.macro image_header
	.section .head.text, "ax"
	.globl _start
_start:
	b	main			/* code0 */
	.long	0			/* code1 */
	.quad	0			/* text_offset */
	.quad	_image_size		/* image_size */
	.quad	0xa			/* flags: little endian, 4K pages, placed anywhere */
	.quad	0, 0, 0			/* res2..res4 */
	.ascii	"ARM\x64"		/* magic at 0x38 */
	.long	0			/* res5 (no PE header) */
	.text
.endm

/* Writes the NUL-terminated string at label \str to the UART. Clobbers x0, x1, x19. */
.macro puts str
	mov	x19, #UART_BASE
	adr	x0, \str
1:	ldrb	w1, [x0], #1
	cbz	w1, 2f
	strb	w1, [x19]
	b	1b
2:
.endm

/* PSCI call with function id \fn over HVC (the conduit kvmtool and jvmm advertise). */
.macro psci fn
	ldr	x0, =\fn
	hvc	#0
.endm
