#!/usr/bin/env python3
"""Runs a command (as root) in a private user + mount namespace where arm64 ELF binaries run
through qemu-user: its own binfmt_misc instance (Linux >= 6.7) holds the only registration, so
the host's binfmt_misc is neither needed nor changed.
  arm64-ns.py QEMU_AARCH64_STATIC -- CMD ARGS...
The namespace maps uids/gids 0..65535 onto the host's same ids (the caller must be real root),
so files keep their owners; chroot works inside it."""
import ctypes, os, sys

CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MAGIC = rb"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00"
MASK = rb"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"


def fail(msg):
    print(f"arm64-ns: FAILED: {msg}", file=sys.stderr)
    sys.exit(125)


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        fail("usage: arm64-ns.py QEMU_AARCH64_STATIC -- CMD ARGS...")
    qemu, cmd = sys.argv[1], sys.argv[3:]
    if os.geteuid() != 0:
        fail("needs root (it maps the host's uids 0..65535 into the namespace)")
    if not os.access(qemu, os.X_OK):
        fail(f"{qemu} is not executable (install qemu-user-static: scripts/setup-host.sh)")
    libc = ctypes.CDLL(None, use_errno=True)
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r); os.close(go_w)
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
            fail(f"unshare: {os.strerror(ctypes.get_errno())}")
        os.write(ready_w, b"1"); os.close(ready_w)
        if os.read(go_r, 1) != b"1":
            os._exit(125)
        os.setresgid(0, 0, 0); os.setresuid(0, 0, 0)
        # private mounts from here on; /proc/sys/fs/binfmt_misc gets this namespace's own instance
        if libc.mount(b"none", b"/", None, 0x40000 | 0x4000, None) != 0:   # MS_REC | MS_PRIVATE
            fail(f"making / private: {os.strerror(ctypes.get_errno())}")
        bm = b"/proc/sys/fs/binfmt_misc"
        if libc.mount(b"binfmt_misc", bm, b"binfmt_misc", 0, None) != 0:
            fail(f"mounting a private binfmt_misc (needs Linux >= 6.7): {os.strerror(ctypes.get_errno())}")
        # F: the interpreter is opened now, so it works inside any chroot
        rule = b":qemu-aarch64:M::" + MAGIC + b":" + MASK + b":" + os.fsencode(qemu) + b":F"
        with open(bm + b"/register", "wb") as f:
            f.write(rule)
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            fail(f"{cmd[0]}: {e.strerror}")
    os.close(ready_w); os.close(go_r)
    if os.read(ready_r, 1) != b"1":
        os.waitpid(pid, 0)
        sys.exit(125)
    with open(f"/proc/{pid}/uid_map", "w") as f:
        f.write("0 0 65536\n")
    with open(f"/proc/{pid}/gid_map", "w") as f:
        f.write("0 0 65536\n")
    os.write(go_w, b"1"); os.close(go_w)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)


if __name__ == "__main__":
    main()
