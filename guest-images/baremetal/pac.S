/* pac.img: pointer authentication at EL1. Sets the APIA and APGA keys, TCR_EL1 (48-bit VAs, no
 * top-byte ignore: the PAC field is bits 63:56 and 54:48) and SCTLR_EL1.EnIA, then:
 *   PACGA gives a non-zero code; PACIA changes a pointer and AUTIA restores it; AUTIA of a pointer
 *   whose PAC was corrupted fails, by trapping (FEAT_FPAC, EC 0x1c) or by returning a poisoned
 *   pointer - either is right. Prints PAC-OK, or "PAC-FAIL <step>".
 * Where the vCPU has no pointer authentication (--disable-ptrauth), PACGA and PACIA (encodings
 * outside the hint space) trap as undefined: prints PAC-UNDEF. Then PSCI SYSTEM_OFF. */
#include "common.S"
#include "trap.inc"
	.arch	armv8.3-a
#define SCTLR_ENIA (1 << 31)
#define TCR_48BIT  ((16 << 16) | 16)	/* T1SZ = T0SZ = 16; TBI0/TBI1 = 0 */
	image_header
main:
	setup_stack
	install_vectors
	ldr	x0, =TCR_48BIT
	msr	tcr_el1, x0
	/* the key registers themselves trap as undefined without PAuth; checked at PACGA below */
	ldr	x0, =0x0123456789abcdef
	ldr	x1, =0xfedcba9876543210
	msr	apiakeylo_el1, x0
	msr	apiakeyhi_el1, x1
	msr	apgakeylo_el1, x1
	msr	apgakeyhi_el1, x0
	mrs	x0, sctlr_el1
	orr	x0, x0, #SCTLR_ENIA
	msr	sctlr_el1, x0
	isb

	adr	x20, main		/* the pointer to sign: a code address, bits 63:48 zero */
	ldr	x21, =0x5a5a		/* the modifier */
	trap_clear
	mov	x22, #0
	pacga	x22, x20, x21
	trap_ec	1
	cmn	x1, #1
	b.ne	undef

	cbz	x22, fail_pacga		/* the code is in bits 63:32 and has 2^-32 odds of being 0 */
	mov	x23, x20
	pacia	x23, x21
	cmp	x23, x20
	b.eq	fail_pacia
	mov	x24, x23
	autia	x24, x21
	cmp	x24, x20
	b.ne	fail_autia

	eor	x25, x23, #(1 << 53)	/* one bit of the PAC field */
	trap_clear
	autia	x25, x21
	trap_ec	1
	cmn	x1, #1
	b.eq	1f
	cmp	x1, #EC_FPAC
	b.ne	fail_corrupt
	say	msg_fpac
	b	ok
1:	cmp	x25, x20		/* no FPAC: the pointer must come back poisoned */
	b.eq	fail_corrupt
	say	msg_poisoned
ok:	say	msg_ok
	b	off

undef:	cmp	x1, #EC_UNKNOWN
	b.ne	fail_pacga
	trap_clear			/* PACIA must trap too (SCTLR_EL1.EnIA is set) */
	mov	x23, x20
	pacia	x23, x21
	trap_ec	1
	cmp	x1, #EC_UNKNOWN
	b.ne	fail_pacia
	say	msg_undef
	b	off

fail_pacga:
	say	msg_fail_pacga
	b	off
fail_pacia:
	say	msg_fail_pacia
	b	off
fail_autia:
	say	msg_fail_autia
	b	off
fail_corrupt:
	say	msg_fail_corrupt
off:	psci	PSCI_SYSTEM_OFF
	b	.

	.section .rodata
msg_ok:			.asciz	"PAC-OK\r\n"
msg_undef:		.asciz	"PAC-UNDEF\r\n"
msg_fpac:		.asciz	"PAC-AUTH-FAILED-FPAC-TRAP\r\n"
msg_poisoned:		.asciz	"PAC-AUTH-FAILED-POISONED\r\n"
msg_fail_pacga:		.asciz	"PAC-FAIL pacga\r\n"
msg_fail_pacia:		.asciz	"PAC-FAIL pacia\r\n"
msg_fail_autia:		.asciz	"PAC-FAIL autia\r\n"
msg_fail_corrupt:	.asciz	"PAC-FAIL corrupted pointer authenticated\r\n"
