/* exit-bench.img: times VM exits from inside the guest with the virtual counter (bench/exit-bench).
 * Three kinds of exit, each in three batches: the first 1,000 of its kind in this VM, the next 9,000
 * (warm-up) and the next 20,000 (steady state), nothing printed until all are done. (In the arm64 lab
 * one exit to jvmm costs 0.4-2 ms, so 100,000 would take minutes per kind.)
 *   mmio      a read of a UART register the VMM emulates in userspace (8250 LSR; PL011 FR in the
 *             QEMU virt variant, exit-bench-virt.img)
 *   hvc-kvm   HVC SMCCC_VERSION, answered inside KVM (no userspace exit): the kernel's share
 *   hvc-user  HVC SDEI_VERSION, forwarded to the VMM by the SMCCC filter (jvmm run --sdei); skipped,
 *             with the answer printed, when the first call comes back NOT_SUPPORTED (not forwarded)
 * Then prints, for the harness to parse, and powers off:
 *   EXIT-BENCH uart=8250 cntfrq=<Hz>
 *   EXIT-BENCH <kind> <first|warm|steady> n=<exits> ticks=<counter ticks> ns=<ns per exit, 1 decimal>
 *   EXIT-BENCH hvc-user sdei-version=0x...   (or: EXIT-BENCH hvc-user unavailable x0=0x...)
 *   EXIT-BENCH DONE
 * Position independent, MMU off; results are kept in .data (inside image_size). */
#include "common.S"
#define SMCCC_VERSION   0x80000000
#define SDEI_VERSION    0xC4000020
#define N_FIRST         1000
#define N_WARM          9000
#define N_STEADY        20000
#ifdef EXIT_BENCH_VIRT
#define BENCH_UART      0x09000000      /* QEMU virt: PL011, 32-bit registers, DR at 0, FR at 0x18 */
.macro uart_putc reg
	str	\reg, [x19]
.endm
.macro uart_read
	ldr	w3, [x19, #0x18]
.endm
#else
#define BENCH_UART      UART_BASE       /* kvmtool/jvmm: 8250, byte registers, THR at 0, LSR at 5 */
.macro uart_putc reg
	strb	\reg, [x19]
.endm
.macro uart_read
	ldrb	w3, [x19, #5]
.endm
#endif

/* x20 = the results table; slot \i = ticks of batch i (0..8), 9 = cntfrq, 10 = the SDEI_VERSION answer */
.macro timed loop, count, slot
	ldr	x1, =\count
	bl	\loop
	str	x0, [x20, #(\slot * 8)]
.endm

	image_header
main:
	mov	x0, #(3 << 20)			/* CPACR_EL1.FPEN: the ns arithmetic uses FP */
	msr	cpacr_el1, x0
	isb
	ldr	x19, =BENCH_UART
	adr	x20, results
	mrs	x0, cntfrq_el0
	str	x0, [x20, #(9 * 8)]

	/* mmio first: these are the first exits of the VM's life */
	timed	mmio_loop, N_FIRST, 0
	timed	mmio_loop, N_WARM, 1
	timed	mmio_loop, N_STEADY, 2
	ldr	x23, =SMCCC_VERSION
	timed	hvc_loop, N_FIRST, 3
	timed	hvc_loop, N_WARM, 4
	timed	hvc_loop, N_STEADY, 5
	ldr	x23, =SDEI_VERSION
	timed	hvc_loop, N_FIRST, 6
	str	x24, [x20, #(10 * 8)]
	tbnz	x24, #63, 1f			/* negative: NOT_SUPPORTED from KVM, not forwarded */
	timed	hvc_loop, N_WARM, 7
	timed	hvc_loop, N_STEADY, 8

1:
#ifdef EXIT_BENCH_VIRT
	mov	w0, #0x301			/* UARTCR: UARTEN | TXE | RXE */
	str	w0, [x19, #0x30]
#endif
	adr	x0, s_head
	bl	print_str
	ldr	x0, [x20, #(9 * 8)]
	bl	print_dec
	bl	print_nl

	adr	x25, table			/* (name, count, slot) rows; name 0 ends */
2:	ldr	x0, [x25]
	cbz	x0, 4f
	ldr	x1, [x25, #16]			/* hvc-user rows: only when forwarded */
	cmp	x1, #6
	b.lo	3f
	ldr	x2, [x20, #(10 * 8)]
	tbnz	x2, #63, 5f
3:	adr	x0, s_tag
	bl	print_str
	ldr	x0, [x25]
	add	x0, x0, x25			/* names are stored as offsets from their row */
	bl	print_str
	adr	x0, s_n
	bl	print_str
	ldr	x0, [x25, #8]
	bl	print_dec
	adr	x0, s_ticks
	bl	print_str
	ldr	x1, [x25, #16]
	ldr	x0, [x20, x1, lsl #3]
	bl	print_dec
	adr	x0, s_ns
	bl	print_str
	/* tenths of ns per exit = ticks * 1e10 / cntfrq / n */
	ldr	x1, [x25, #16]
	ldr	x0, [x20, x1, lsl #3]
	ucvtf	d0, x0
	ldr	x0, =10000000000
	ucvtf	d1, x0
	fmul	d0, d0, d1
	ldr	x0, [x20, #(9 * 8)]
	ucvtf	d1, x0
	fdiv	d0, d0, d1
	ldr	x0, [x25, #8]
	ucvtf	d1, x0
	fdiv	d0, d0, d1
	fcvtzu	x0, d0
	bl	print_tenths
	bl	print_nl
5:	add	x25, x25, #24
	b	2b

4:	ldr	x0, [x20, #(10 * 8)]
	tbnz	x0, #63, 6f
	adr	x0, s_sdei
	b	7f
6:	adr	x0, s_unavail
7:	bl	print_str
	ldr	x0, [x20, #(10 * 8)]
	bl	print_hex
	bl	print_nl
	adr	x0, s_done
	bl	print_str
	psci	PSCI_SYSTEM_OFF
	b	.

/* ---- timed loops: x1 = count; returns x0 = counter ticks. Use x0..x5, x21..x24 only. ---------- */
mmio_loop:
	isb
	mrs	x2, cntvct_el0
1:	uart_read				/* a trapped read the VMM answers in userspace */
	subs	x1, x1, #1
	b.ne	1b
	isb
	mrs	x0, cntvct_el0
	sub	x0, x0, x2
	ret

/* x23 = SMCCC function ID; leaves the last call's x0 in x24. x4..x17 are not relied on. */
hvc_loop:
	mov	x21, x1
	isb
	mrs	x22, cntvct_el0
1:	mov	x0, x23
	hvc	#0
	subs	x21, x21, #1
	b.ne	1b
	isb
	mrs	x1, cntvct_el0
	mov	x24, x0
	sub	x0, x1, x22
	ret

/* ---- printing (after the timing): x19 = UART. Clobber x0..x5. --------------------------------- */
print_str:					/* x0 = NUL-terminated string */
1:	ldrb	w1, [x0], #1
	cbz	w1, 2f
	uart_putc w1
	b	1b
2:	ret

print_nl:
	mov	w1, #'\r'
	uart_putc w1
	mov	w1, #'\n'
	uart_putc w1
	ret

print_dec:					/* x0 = unsigned value, in decimal */
	adr	x2, numbuf_end
	mov	x3, #10
1:	udiv	x4, x0, x3
	msub	x5, x4, x3, x0
	add	w5, w5, #'0'
	strb	w5, [x2, #-1]!
	mov	x0, x4
	cbnz	x0, 1b
	adr	x4, numbuf_end
2:	ldrb	w1, [x2], #1
	uart_putc w1
	cmp	x2, x4
	b.lo	2b
	ret

print_tenths:					/* x0 = value in tenths: prints x0/10 "." x0%10 */
	mov	x3, #10
	udiv	x4, x0, x3
	msub	x5, x4, x3, x0
	mov	x0, x4
	stp	x30, x5, [x20, #(11 * 8)]	/* results has room: no stack here */
	bl	print_dec
	mov	w1, #'.'
	uart_putc w1
	ldp	x30, x5, [x20, #(11 * 8)]
	add	w1, w5, #'0'
	uart_putc w1
	ret

print_hex:					/* x0 = value: 0x + 16 hex digits */
	mov	w1, #'0'
	uart_putc w1
	mov	w1, #'x'
	uart_putc w1
	mov	x3, #60
1:	lsr	x4, x0, x3
	and	x4, x4, #0xf
	cmp	x4, #10
	b.lo	2f
	add	x4, x4, #('a' - 10 - '0')
2:	add	x4, x4, #'0'
	uart_putc w4
	subs	x3, x3, #4
	b.ge	1b
	ret

	.section .rodata
	.balign	8
table:
	.quad	n_mmio_first - .,  N_FIRST,  0
	.quad	n_mmio_warm - .,   N_WARM,   1
	.quad	n_mmio_steady - ., N_STEADY, 2
	.quad	n_kvm_first - .,   N_FIRST,  3
	.quad	n_kvm_warm - .,    N_WARM,   4
	.quad	n_kvm_steady - .,  N_STEADY, 5
	.quad	n_user_first - .,  N_FIRST,  6
	.quad	n_user_warm - .,   N_WARM,   7
	.quad	n_user_steady - ., N_STEADY, 8
	.quad	0, 0, 0
#ifdef EXIT_BENCH_VIRT
s_head:		.asciz	"EXIT-BENCH uart=pl011 cntfrq="
#else
s_head:		.asciz	"EXIT-BENCH uart=8250 cntfrq="
#endif
s_tag:		.asciz	"EXIT-BENCH "
s_n:		.asciz	" n="
s_ticks:	.asciz	" ticks="
s_ns:		.asciz	" ns="
s_sdei:		.asciz	"EXIT-BENCH hvc-user sdei-version="
s_unavail:	.asciz	"EXIT-BENCH hvc-user unavailable x0="
s_done:		.asciz	"EXIT-BENCH DONE\r\n"
n_mmio_first:	.asciz	"mmio first"
n_mmio_warm:	.asciz	"mmio warm"
n_mmio_steady:	.asciz	"mmio steady"
n_kvm_first:	.asciz	"hvc-kvm first"
n_kvm_warm:	.asciz	"hvc-kvm warm"
n_kvm_steady:	.asciz	"hvc-kvm steady"
n_user_first:	.asciz	"hvc-user first"
n_user_warm:	.asciz	"hvc-user warm"
n_user_steady:	.asciz	"hvc-user steady"

	.data
	.balign	8
results:	.fill	13, 8, 0
numbuf:		.fill	24, 1, 0
numbuf_end:
