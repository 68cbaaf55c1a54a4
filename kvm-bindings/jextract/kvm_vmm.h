/* Wrapper header for jextract: arm64 KVM uapi, parsed with the arm64 headers of Debian trixie's
 * linux-libc-dev (see README.md). BindingsMatchCompilerTest compiles this same file with gcc.
 * linux/bits.h supplies __GENMASK (used by KVM_ARM_DEVICE_{TYPE,ID}_MASK) and SZ_64K is a
 * kernel-internal macro used by KVM_VGIC_V3_*_SIZE; without these the macros are silently dropped. */
#include <linux/bits.h>
#define SZ_64K 0x10000
#include <linux/kvm.h>
