/* exit-bench-virt.img: exit-bench.img for QEMU's virt machine (the peer VMM): the same code with the
 * PL011 at 0x09000000 as the UART it reads and prints on (see exit-bench.S). */
#define EXIT_BENCH_VIRT 1
#include "exit-bench.S"
