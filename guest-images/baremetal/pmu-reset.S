/* pmu-reset.img: checks the guest's PMUv3 (see pmu.inc), waits a quarter second on the virtual
 * counter and resets (PSCI SYSTEM_RESET): under --on-reset reboot it checks the PMU again on every
 * in-place reboot, a few times a second rather than as fast as the host can reboot it. */
#include "common.S"
.macro finish
	mrs	x0, cntfrq_el0
	lsr	x0, x0, #2
	mrs	x1, cntvct_el0
	add	x1, x1, x0
1:	mrs	x2, cntvct_el0
	cmp	x2, x1
	b.lo	1b
	psci	PSCI_SYSTEM_RESET
	b	.
.endm
#include "pmu.inc"
