/* cmdline-raw.bin: a raw binary (no Image header; linked with raw.ld), as bare-metal KVM test
 * programs are. Prints where it runs and where the DTB is (x0 at entry), then walks the FDT to
 * /chosen and prints the command line between delimiters, and the initrd start if there is one:
 *   PC=0x0000000080080000
 *   DTB=0x000000008fe00000
 *   CMDLINE<...bytes of /chosen/bootargs up to its NUL...>
 *   INITRD=0x...            (only with linux,initrd-start)
 *   RAW-DONE
 * then PSCI SYSTEM_OFF. "NO-FDT" / "BAD-FDT" / "NO-BOOTARGS" instead when the DTB is not as it
 * should be. Runs with the MMU off, where memory is Device memory and unaligned loads fault: every
 * FDT read is a 4-byte aligned word or a byte. */
#include "common.S"

#define FDT_MAGIC       0xd00dfeed
#define FDT_BEGIN_NODE  1
#define FDT_END_NODE    2
#define FDT_PROP        3
#define FDT_NOP         4
#define FDT_END         9

	.section .text.start, "ax"
	.globl _start
_start:
	mov	x20, x0			/* DTB address, as the boot protocol passes it */
	adr	x21, _start		/* where this program runs */
	adr	x0, s_pc
	bl	print
	mov	x0, x21
	bl	printhex
	adr	x0, s_dtb
	bl	print
	mov	x0, x20
	bl	printhex
	mov	x25, #0			/* bootargs seen */

	ldr	w0, [x20]
	rev	w0, w0
	ldr	w1, =FDT_MAGIC
	cmp	w0, w1
	b.ne	no_fdt
	ldr	w0, [x20, #8]		/* off_dt_struct */
	rev	w0, w0
	add	x22, x20, x0		/* x22: cursor in the structure block */
	ldr	w0, [x20, #12]		/* off_dt_strings */
	rev	w0, w0
	add	x23, x20, x0		/* x23: strings block */
	mov	x24, #0			/* depth */
	mov	x26, #0			/* depth of /chosen while inside it, else 0 */
	mov	x27, #0			/* token budget: a broken tree cannot keep us here */

walk:
	add	x27, x27, #1
	mov	x0, #0x100000
	cmp	x27, x0
	b.hs	bad_fdt
	ldr	w0, [x22], #4
	rev	w0, w0
	cmp	w0, #FDT_BEGIN_NODE
	b.eq	begin_node
	cmp	w0, #FDT_END_NODE
	b.eq	end_node
	cmp	w0, #FDT_PROP
	b.eq	prop
	cmp	w0, #FDT_NOP
	b.eq	walk
	cmp	w0, #FDT_END
	b.eq	done
	b	bad_fdt

begin_node:
	add	x24, x24, #1
	cmp	x24, #2			/* a child of the root ... */
	b.ne	skip_name
	mov	x0, x22
	adr	x1, s_chosen		/* ... named "chosen" */
	bl	streq
	cbz	x0, skip_name
	mov	x26, x24
skip_name:
	ldrb	w0, [x22], #1
	cbnz	w0, skip_name
	add	x22, x22, #3
	and	x22, x22, #~3
	b	walk

end_node:
	cmp	x24, x26
	b.ne	1f
	mov	x26, #0
1:	sub	x24, x24, #1
	b	walk

prop:
	ldr	w28, [x22]		/* value length */
	rev	w28, w28
	ldr	w0, [x22, #4]		/* name offset */
	rev	w0, w0
	add	x19, x22, #8		/* value */
	add	x22, x19, x28
	add	x22, x22, #3
	and	x22, x22, #~3
	cbz	x26, walk
	cmp	x24, x26
	b.ne	walk
	add	x10, x23, x0		/* name (print and streq leave x10 alone) */
	mov	x0, x10
	adr	x1, s_bootargs
	bl	streq
	cbnz	x0, print_bootargs
	mov	x0, x10
	adr	x1, s_initrd
	bl	streq
	cbz	x0, walk
	cmp	x28, #8			/* a u64: two big-endian words, 4-byte aligned only */
	b.ne	walk
	adr	x0, s_initrd_out
	bl	print
	ldr	w1, [x19]
	rev	w1, w1
	ldr	w2, [x19, #4]
	rev	w2, w2
	orr	x0, x2, x1, lsl #32
	bl	printhex
	b	walk

print_bootargs:
	mov	x25, #1
	adr	x0, s_open
	bl	print
	mov	x9, #UART_BASE
1:	cbz	x28, 2f			/* at most the property's length ... */
	ldrb	w0, [x19], #1
	cbz	w0, 2f			/* ... up to its terminating NUL */
	strb	w0, [x9]
	sub	x28, x28, #1
	b	1b
2:	adr	x0, s_close
	bl	print
	b	walk

done:
	cbnz	x25, 1f
	adr	x0, s_no_bootargs
	bl	print
1:	adr	x0, s_done
	bl	print
off:
	psci	PSCI_SYSTEM_OFF
	b	.

no_fdt:
	adr	x0, s_no_fdt
	bl	print
	b	off
bad_fdt:
	adr	x0, s_bad_fdt
	bl	print
	b	off

/* print: the NUL-terminated string at x0 to the UART. Clobbers x0, x1, x9. */
print:
	mov	x9, #UART_BASE
1:	ldrb	w1, [x0], #1
	cbz	w1, 2f
	strb	w1, [x9]
	b	1b
2:	ret

/* printhex: "0x" and x0 as 16 hex digits, then CR LF. Clobbers x0-x3, x9. */
printhex:
	mov	x9, #UART_BASE
	mov	w1, #'0'
	strb	w1, [x9]
	mov	w1, #'x'
	strb	w1, [x9]
	mov	x2, #60
1:	lsr	x1, x0, x2
	and	x1, x1, #0xf
	cmp	x1, #10
	add	x3, x1, #'0'
	add	x1, x1, #('a' - 10)
	csel	x1, x3, x1, lo
	strb	w1, [x9]
	subs	x2, x2, #4
	b.ge	1b
	mov	w1, #'\r'
	strb	w1, [x9]
	mov	w1, #'\n'
	strb	w1, [x9]
	ret

/* streq: x0 = 1 when the NUL-terminated strings at x0 and x1 are equal, else 0. Clobbers x2, x3. */
streq:
1:	ldrb	w2, [x0], #1
	ldrb	w3, [x1], #1
	cmp	w2, w3
	b.ne	2f
	cbnz	w2, 1b
	mov	x0, #1
	ret
2:	mov	x0, #0
	ret

	.section .rodata
s_pc:		.asciz	"PC="
s_dtb:		.asciz	"DTB="
s_chosen:	.asciz	"chosen"
s_bootargs:	.asciz	"bootargs"
s_initrd:	.asciz	"linux,initrd-start"
s_open:		.asciz	"CMDLINE<"
s_close:	.asciz	">\r\n"
s_initrd_out:	.asciz	"INITRD="
s_no_bootargs:	.asciz	"NO-BOOTARGS\r\n"
s_done:		.asciz	"RAW-DONE\r\n"
s_no_fdt:	.asciz	"NO-FDT\r\n"
s_bad_fdt:	.asciz	"BAD-FDT\r\n"
