/* mte.img: memory tagging at EL1. Reads ID_AA64PFR1_EL1.MTE; below 2 (no tag storage for the
 * guest, e.g. without --mte) prints "MTE-LEVEL=<n>" and MTE-ABSENT. Otherwise turns the MMU on
 * with an identity map (tags exist only in Normal Tagged memory: MAIR attribute 0xf0 for the RAM
 * gigabytes, Device for the UART's), sets SCTLR_EL1.ATA, stores allocation tag 5 on one granule
 * with STG and reads it back with LDG (its neighbour must keep tag 0), prints "MTE-TAG=<t>" and
 * MTE-OK or MTE-FAIL. Then PSCI SYSTEM_OFF. */
#include "common.S"
#include "trap.inc"
	.arch	armv8.5-a+memtag
#define BLOCK_DEVICE  0x405		/* level-1 block: AttrIndx 1, AF */
#define BLOCK_TAGGED  0x701		/* level-1 block: AttrIndx 0, inner shareable, AF */
#define MAIR_VALUE    0xf0		/* attr0 Normal Tagged write-back, attr1 Device-nGnRnE */
/* T0SZ 25 (39-bit VAs: the walk starts at level 1, 1 GiB blocks), non-cacheable walks, 4K granule,
 * no TTBR1 walks (EPD1), IPS 36 bits, TBI0: the tag lives in the top byte of a pointer */
#define TCR_VALUE     (25 | (1 << 23) | (1 << 32) | (1 << 37))
	image_header
main:
	setup_stack
	install_vectors
	mrs	x0, id_aa64pfr1_el1
	ubfx	x20, x0, #8, #4
	say	msg_level
	mov	x0, x20
	bl	print_dec
	say	msg_crlf
	cmp	x20, #2
	b.hs	1f
	say	msg_absent
	b	off

1:	adr	x0, table		/* identity map of the first 4 GiB */
	ldr	x1, =BLOCK_DEVICE
	str	x1, [x0]		/* 0..1 GiB: the UART and other MMIO */
	ldr	x1, =(0x40000000 | BLOCK_DEVICE)
	str	x1, [x0, #8]
	ldr	x1, =(0x80000000 | BLOCK_TAGGED)
	str	x1, [x0, #16]		/* 2..3 GiB: RAM (this image included) */
	ldr	x1, =(0xc0000000 | BLOCK_TAGGED)
	str	x1, [x0, #24]
	dsb	sy
	msr	ttbr0_el1, x0
	ldr	x0, =MAIR_VALUE
	msr	mair_el1, x0
	ldr	x0, =TCR_VALUE
	msr	tcr_el1, x0
	isb
	tlbi	vmalle1
	dsb	sy
	isb
	mrs	x0, sctlr_el1
	orr	x0, x0, #1		/* M */
	orr	x0, x0, #(1 << 2)	/* C */
	orr	x0, x0, #(1 << 12)	/* I */
	orr	x0, x0, #(1 << 43)	/* ATA: EL1 may access allocation tags */
	msr	sctlr_el1, x0
	isb

	adr	x21, granules
	mov	x0, #5
	bfi	x21, x0, #56, #4	/* a pointer with logical tag 5 */
	stg	x21, [x21]		/* allocation tag of granule 0 = 5 */
	dsb	sy
	adr	x22, granules
	mov	x23, x22
	ldg	x23, [x22]		/* x23's tag bits = granule 0's allocation tag */
	ubfx	x23, x23, #56, #4
	add	x24, x22, #16
	mov	x25, x24
	ldg	x25, [x24]		/* granule 1: untouched, tag 0 */
	ubfx	x25, x25, #56, #4
	say	msg_tag
	mov	x0, x23
	bl	print_dec
	say	msg_crlf
	cmp	x23, #5
	b.ne	2f
	cbnz	x25, 2f
	say	msg_ok
	b	off
2:	say	msg_fail
off:	psci	PSCI_SYSTEM_OFF
	b	.

	.section .rodata
msg_level:	.asciz	"MTE-LEVEL="
msg_crlf:	.asciz	"\r\n"
msg_absent:	.asciz	"MTE-ABSENT\r\n"
msg_tag:	.asciz	"MTE-TAG="
msg_ok:		.asciz	"MTE-OK\r\n"
msg_fail:	.asciz	"MTE-FAIL\r\n"
	.data
	.balign	4096
table:		.space	4096
granules:	.space	32
