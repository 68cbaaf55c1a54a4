/* its.img: an LPI through the in-kernel GICv3 ITS (run with -c 1 --irqchip gicv3-its, 64 MiB).
 *
 * The guest checks it starts with a fresh ITS and redistributor (what a new VM, or one rebooted in
 * place, must give it), gives the redistributor an LPI property and pending table and enables LPIs,
 * gives the ITS a device and a collection table and a command queue and enables it, then maps
 * device DEVICE_ID's events with MAPD / MAPC / MAPTI / INV / SYNC:
 *     event EVENT_OFF   -> LPI LPI_OFF:   print "LPI <intid>", PSCI SYSTEM_OFF
 *     event EVENT_RESET -> LPI LPI_RESET: print "LPI <intid>", PSCI SYSTEM_RESET
 * and waits in WFI after "ITS-READY" for the host to raise one with KVM_SIGNAL_MSI (GITS_TRANSLATER,
 * data = event, devid = DEVICE_ID). The wait is bounded by the virtual timer (INTID 27): no LPI
 * within WAIT_SECONDS prints "ITS FAIL: no LPI" and powers off. Any check that fails prints
 * "<name>: FAIL got .. want .." and the guest powers off before ITS-READY.
 *
 * Addresses are jvmm's (and kvmtool's) map for ONE vCPU: distributor at 0x3fff0000, the one
 * redistributor 128 KiB below, the ITS frame 128 KiB below that. Tables live in RAM at TABLES,
 * well above this image and below the DTB at the top of 64 MiB; the guest zeroes them each boot.
 * The MMU is off: every MMIO access is a single non-writeback load or store, so KVM can decode it. */
#include "common.S"
#include "sdei.inc"

#define GICD            0x3fff0000
#define GICR            0x3ffd0000      /* RD_base; SGI_base is the next 64 KiB frame */
#define GICR_SGI        0x3ffe0000
#define GITS            0x3ffb0000

#define GICD_CTLR       0x0
#define GICR_CTLR       0x0
#define GICR_TYPER      0x8
#define GICR_PROPBASER  0x70
#define GICR_PENDBASER  0x78
#define GICR_IGROUPR0   0x80            /* SGI_base registers */
#define GICR_ISENABLER0 0x100
#define GICR_IPRIORITYR 0x400
#define GITS_CTLR       0x0
#define GITS_TYPER      0x8
#define GITS_CBASER     0x80
#define GITS_CWRITER    0x88
#define GITS_CREADR     0x90
#define GITS_BASER      0x100

#define TABLES          0x81000000
#define PROP_TABLE      (TABLES)            /* 8 KiB: one byte per LPI 8192..16383 */
#define PEND_TABLE      (TABLES + 0x10000)  /* 2 KiB: one bit per INTID 0..16383, 64 KiB aligned */
#define DEVICE_TABLE    (TABLES + 0x20000)  /* one 64 KiB page: KVM's ITS has 64 KiB pages only */
#define COLL_TABLE      (TABLES + 0x30000)
#define CMD_QUEUE       (TABLES + 0x40000)  /* 4 KiB: 128 commands */
#define ITT             (TABLES + 0x50000)
#define TABLES_SIZE     0x60000
#define LPI_ID_BITS     14                  /* INTIDs below 16384 */

#define DEVICE_ID       0x10
#define EVENT_ID_BITS   4
#define EVENT_OFF       3
#define EVENT_RESET     4
#define LPI_OFF         8234
#define LPI_RESET       8235
#define VTIMER_INTID    27
#define WAIT_SECONDS    30
#define LPI_CONFIG      0xa3                /* priority 0xa0, RES1, enabled */

#define ICC_IAR1_EL1    S3_0_C12_C12_0
#define ICC_EOIR1_EL1   S3_0_C12_C12_1
#define ICC_SRE_EL1     S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7
#define ICC_PMR_EL1     S3_0_C4_C6_0

/* x20 = GITS, x21 = GICR, x22 = command queue write offset, x23 = MAPC/SYNC target (RDbase). */
	image_header
main:
	mov	x28, #0
	puts	msg_start
	adr	x0, vectors
	msr	vbar_el1, x0
	isb
	ldr	x20, =GITS
	ldr	x21, =GICR

	/* ---- a fresh ITS and redistributor: one bit per leftover of a previous guest ---- */
	mov	x5, #0
	ldr	w0, [x20, #GITS_CTLR]		/* Enabled */
	and	x0, x0, #1
	orr	x5, x5, x0
	ldr	x0, [x20, #GITS_CBASER]		/* Valid */
	lsr	x0, x0, #63
	orr	x5, x5, x0, lsl #1
	ldr	x0, [x20, #GITS_BASER]		/* Valid */
	lsr	x0, x0, #63
	orr	x5, x5, x0, lsl #2
	ldr	x0, [x20, #(GITS_BASER + 8)]
	lsr	x0, x0, #63
	orr	x5, x5, x0, lsl #3
	ldr	w0, [x21, #GICR_CTLR]		/* EnableLPIs */
	and	x0, x0, #1
	orr	x5, x5, x0, lsl #4
	ldr	x0, [x21, #GICR_PROPBASER]	/* an address from a previous guest */
	ubfx	x0, x0, #12, #40
	cmp	x0, #0
	cset	x0, ne
	orr	x5, x5, x0, lsl #5
	ldr	x0, [x21, #GICR_PENDBASER]
	ubfx	x0, x0, #16, #36
	cmp	x0, #0
	cset	x0, ne
	orr	x5, x5, x0, lsl #6
	check	x5, xzr, n_fresh

	/* ---- tables: zero them (a reboot leaves the old guest's in RAM) ---- */
	ldr	x0, =TABLES
	ldr	x1, =(TABLES + TABLES_SIZE)
1:	stp	xzr, xzr, [x0], #16
	cmp	x0, x1
	b.lo	1b
	ldr	x0, =(PROP_TABLE + LPI_OFF - 8192)
	mov	w1, #LPI_CONFIG
	strb	w1, [x0]
	strb	w1, [x0, #(LPI_RESET - LPI_OFF)]
	dsb	sy

	/* ---- distributor: affinity routing, both groups on (KVM delivers nothing otherwise) ---- */
	ldr	x0, =GICD
	mov	w1, #0x13
	str	w1, [x0, #GICD_CTLR]

	/* ---- redistributor: LPI tables, then EnableLPIs ---- */
	ldr	x0, [x21, #GICR_TYPER]
	and	x1, x0, #1			/* PLPIS */
	mov	x2, #1
	check	x1, x2, n_gicr_plpis
	ldr	x0, [x21, #GICR_TYPER]
	ubfx	x23, x0, #8, #16		/* Processor_Number, the MAPC target unless PTA */
	ldr	x0, =(PROP_TABLE | (LPI_ID_BITS - 1))
	str	x0, [x21, #GICR_PROPBASER]
	ldr	x0, =PEND_TABLE
	str	x0, [x21, #GICR_PENDBASER]
	mov	w0, #1
	str	w0, [x21, #GICR_CTLR]
	ldr	w0, [x21, #GICR_CTLR]
	and	x0, x0, #1
	mov	x1, #1
	check	x0, x1, n_lpis_enabled

	/* ---- ITS: tables, command queue, enable ---- */
	ldr	x0, [x20, #GITS_TYPER]
	and	x1, x0, #1			/* Physical LPIs */
	mov	x2, #1
	check	x1, x2, n_its_plpis
	ldr	x0, [x20, #GITS_TYPER]
	tbz	x0, #19, 2f			/* PTA: targets are redistributor addresses */
	lsr	x23, x21, #16
2:	mov	x6, #0				/* n */
	mov	x7, #0				/* tables given */
3:	add	x8, x20, #GITS_BASER
	add	x8, x8, x6, lsl #3		/* GITS_BASER<n>: a plain address, no register offset */
	ldr	x0, [x8]
	ubfx	x1, x0, #56, #3			/* Type */
	cmp	x1, #1
	b.ne	4f
	ldr	x2, =DEVICE_TABLE
	b	5f
4:	cmp	x1, #4
	b.ne	6f
	ldr	x2, =COLL_TABLE
5:	mov	x3, #(1 << 63)			/* Valid, flat, one page */
	orr	x2, x2, x3
	orr	x2, x2, #(2 << 8)		/* 64 KiB pages */
	str	x2, [x8]
	ldr	x0, [x8]
	lsr	x0, x0, #63
	add	x7, x7, x0
6:	add	x6, x6, #1
	cmp	x6, #8
	b.lo	3b
	mov	x1, #2
	check	x7, x1, n_its_tables
	ldr	x0, =CMD_QUEUE
	mov	x1, #(1 << 63)
	orr	x0, x0, x1			/* Valid, one 4 KiB page */
	str	x0, [x20, #GITS_CBASER]
	str	xzr, [x20, #GITS_CWRITER]
	mov	x22, #0
	mov	w0, #1
	str	w0, [x20, #GITS_CTLR]
	ldr	w0, [x20, #GITS_CTLR]
	and	x0, x0, #1
	mov	x1, #1
	check	x0, x1, n_its_enabled

	/* ---- commands ---- */
	ldr	x0, =(0x08 | (DEVICE_ID << 32))			/* MAPD */
	mov	x1, #(EVENT_ID_BITS - 1)
	ldr	x2, =ITT
	mov	x3, #(1 << 63)
	orr	x2, x2, x3
	bl	its_cmd
	check	x0, xzr, n_mapd
	mov	x0, #0x09					/* MAPC collection 0 */
	mov	x1, #0
	lsl	x2, x23, #16
	mov	x3, #(1 << 63)
	orr	x2, x2, x3
	bl	its_cmd
	check	x0, xzr, n_mapc
	ldr	x0, =(0x0a | (DEVICE_ID << 32))			/* MAPTI */
	ldr	x1, =(EVENT_OFF | (LPI_OFF << 32))
	mov	x2, #0
	bl	its_cmd
	check	x0, xzr, n_mapti_off
	ldr	x0, =(0x0a | (DEVICE_ID << 32))
	ldr	x1, =(EVENT_RESET | (LPI_RESET << 32))
	mov	x2, #0
	bl	its_cmd
	check	x0, xzr, n_mapti_reset
	ldr	x0, =(0x0c | (DEVICE_ID << 32))			/* INV */
	mov	x1, #EVENT_OFF
	mov	x2, #0
	bl	its_cmd
	check	x0, xzr, n_inv
	ldr	x0, =(0x0c | (DEVICE_ID << 32))
	mov	x1, #EVENT_RESET
	mov	x2, #0
	bl	its_cmd
	check	x0, xzr, n_inv
	mov	x0, #0x05					/* SYNC */
	mov	x1, #0
	lsl	x2, x23, #16
	bl	its_cmd
	check	x0, xzr, n_sync

	/* ---- CPU interface, and the virtual timer that bounds the wait ---- */
	mrs	x0, ICC_SRE_EL1
	orr	x0, x0, #1
	msr	ICC_SRE_EL1, x0
	isb
	mov	x0, #0xf0
	msr	ICC_PMR_EL1, x0
	mov	x0, #1
	msr	ICC_IGRPEN1_EL1, x0
	isb
	ldr	x0, =GICR_SGI
	mov	w1, #-1
	str	w1, [x0, #GICR_IGROUPR0]
	mov	w1, #0xa0
	strb	w1, [x0, #(GICR_IPRIORITYR + VTIMER_INTID)]
	mov	w1, #(1 << VTIMER_INTID)
	str	w1, [x0, #GICR_ISENABLER0]
	mrs	x0, cntfrq_el0
	mov	x1, #WAIT_SECONDS
	mul	x0, x0, x1
	isb
	mrs	x1, cntvct_el0
	add	x0, x0, x1
	msr	cntv_cval_el0, x0
	mov	x0, #1				/* enabled, not masked */
	msr	cntv_ctl_el0, x0
	isb

	cbnz	x28, failed
	puts	msg_ready
	msr	daifclr, #2
wait:
	wfi
	b	wait

failed:
	finish	msg_pass, msg_fail

/* Queues the command x0..x2 (x3 = 0 word), advances GITS_CWRITER and waits (bounded) for
 * GITS_CREADR to catch up. x0 = 0 when the ITS consumed it and is not stalled, else 1.
 * Clobbers x0..x5; uses x20 (GITS) and x22 (write offset). */
its_cmd:
	ldr	x4, =CMD_QUEUE
	add	x4, x4, x22
	str	x0, [x4]
	str	x1, [x4, #8]
	str	x2, [x4, #16]
	str	xzr, [x4, #24]
	dsb	sy
	add	x22, x22, #32
	str	x22, [x20, #GITS_CWRITER]
	ldr	x5, =1000000
1:	ldr	x0, [x20, #GITS_CREADR]
	tbnz	x0, #0, 2f			/* Stalled */
	cmp	x0, x22
	b.eq	3f
	subs	x5, x5, #1
	b.ne	1b
2:	mov	x0, #1
	ret
3:	mov	x0, #0
	ret

/* x0 = value below 100000, printed in decimal. Clobbers x0..x5. */
print_dec:
	mov	x2, #UART_BASE
	mov	x3, #10000
	mov	x5, #0
1:	udiv	x4, x0, x3
	msub	x0, x4, x3, x0
	cbnz	x5, 2f
	cbnz	x4, 2f
	cmp	x3, #1
	b.ne	3f
2:	add	w4, w4, #'0'
	strb	w4, [x2]
	mov	x5, #1
3:	mov	x1, #10
	udiv	x3, x3, x1
	cbnz	x3, 1b
	ret

/* An IRQ: acknowledge, end it, and act on which it was. Never returns to the interrupted code. */
irq:
	mrs	x6, ICC_IAR1_EL1
	msr	ICC_EOIR1_EL1, x6
	isb
	cmp	x6, #VTIMER_INTID
	b.eq	timeout
	adr	x0, msg_lpi
	bl	print_str
	mov	x0, x6
	bl	print_dec
	adr	x0, str_nl
	bl	print_str
	ldr	x1, =LPI_RESET
	cmp	x6, x1
	b.eq	reset
	ldr	x1, =LPI_OFF
	check	x6, x1, n_lpi
	finish	msg_pass, msg_fail
reset:
	puts	msg_reset
	psci	PSCI_SYSTEM_RESET
	b	.
timeout:
	puts	msg_timeout
	psci	PSCI_SYSTEM_OFF
	b	.

unexpected:
	puts	msg_unexpected
	mrs	x0, esr_el1
	bl	print_hex
	adr	x0, str_nl
	bl	print_str
	psci	PSCI_SYSTEM_OFF
	b	.

/* VBAR_EL1: 16 entries of 0x80 bytes; only an IRQ taken from EL1 with SP_EL1 is expected. */
.macro vector target
	.balign	0x80
	b	\target
.endm
	.balign	2048
vectors:
	vector	unexpected	/* current EL, SP_EL0: sync, irq, fiq, serror */
	vector	unexpected
	vector	unexpected
	vector	unexpected
	vector	unexpected	/* current EL, SP_ELx */
	vector	irq
	vector	unexpected
	vector	unexpected
	vector	unexpected	/* lower EL, AArch64 */
	vector	unexpected
	vector	unexpected
	vector	unexpected
	vector	unexpected	/* lower EL, AArch32 */
	vector	unexpected
	vector	unexpected
	vector	unexpected
	.ltorg

	.section .rodata
msg_start:	.asciz	"ITS start\r\n"
msg_ready:	.asciz	"ITS-READY\r\n"
msg_lpi:	.asciz	"LPI "
msg_reset:	.asciz	"ITS reset requested\r\n"
msg_pass:	.asciz	"ITS PASS\r\n"
msg_fail:	.asciz	"ITS FAIL\r\n"
msg_timeout:	.asciz	"ITS FAIL: no LPI within the wait\r\n"
msg_unexpected:	.asciz	"ITS FAIL: unexpected exception, ESR_EL1 "
n_fresh:	.asciz	"fresh ITS and redistributor (stale-state bits)"
n_gicr_plpis:	.asciz	"redistributor supports LPIs"
n_lpis_enabled:	.asciz	"redistributor LPIs enabled"
n_its_plpis:	.asciz	"ITS supports physical LPIs"
n_its_tables:	.asciz	"ITS device and collection tables valid"
n_its_enabled:	.asciz	"ITS enabled"
n_mapd:		.asciz	"MAPD"
n_mapc:		.asciz	"MAPC"
n_mapti_off:	.asciz	"MAPTI event 3"
n_mapti_reset:	.asciz	"MAPTI event 4"
n_inv:		.asciz	"INV"
n_sync:		.asciz	"SYNC"
n_lpi:		.asciz	"the LPI mapped to the event"
