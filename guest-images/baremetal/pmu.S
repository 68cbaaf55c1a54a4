/* pmu.img: checks the guest's PMUv3 (see pmu.inc), then PSCI SYSTEM_OFF. */
#include "common.S"
.macro finish
	psci	PSCI_SYSTEM_OFF
	b	.
.endm
#include "pmu.inc"
