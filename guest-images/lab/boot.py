#!/usr/bin/env python3
"""Boots the arm64 lab (L1) under QEMU TCG and runs one command in it, or opens a shell.

  boot.py run [--timeout S] -- SHELL-COMMAND-LINE
  boot.py shell

run: the command runs as root in L1 with the repo (9p) as working directory. Its output (stdout
and stderr, both via the serial console) is streamed to our stdout; our exit status is its exit
status, carried out on a console marker line. 124 = timeout, 125 = the lab itself failed,
128+N = stopped by signal N. On an arm64 host with a usable /dev/kvm the command runs natively.
Environment: LAB (the .lab dir), LAB_VERBOSE=1 shows L1's boot messages too, LAB_MTE=0 starts L1
without MTE (QEMU's mte=on, on by default), LAB_KERNEL=stock|new the L1 kernel: trixie's (default,
also the guests' kernel) or the newer one from backports (images/Image-new); exported in L1.
"""
import base64
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LAB = os.environ.get("LAB", os.path.join(REPO, ".lab"))
VERBOSE = os.environ.get("LAB_VERBOSE") == "1"
TIMEOUT_RC, LAB_FAIL_RC = 124, 125
JAVA_FLAGS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def say(msg):
    print(f"lab: {msg}", file=sys.stderr, flush=True)


def native():
    return os.uname().machine == "aarch64" and os.access("/dev/kvm", os.R_OK | os.W_OK)


# LAB_KERNEL -> the L1 kernel Image in images/ (build.sh makes both)
L1_KERNELS = {"stock": "Image", "new": "Image-new"}


def l1_kernel():
    name = os.environ.get("LAB_KERNEL") or "stock"
    if name not in L1_KERNELS:
        say(f"FAILED: LAB_KERNEL={name}: not a lab kernel (stock or new)")
        sys.exit(LAB_FAIL_RC)
    return name


def qemu_cmd(append):
    qemu = shutil.which("qemu-system-aarch64")
    if not qemu:
        say("FAILED: qemu-system-aarch64 is not installed (run scripts/setup-host.sh)")
        sys.exit(LAB_FAIL_RC)
    machine = "virt,virtualization=on,gic-version=3"
    if os.environ.get("LAB_MTE") != "0":  # MTE for L1, so its KVM offers --mte (README: cost)
        machine += ",mte=on"
    return [qemu, "-M", machine, "-cpu", "max", "-smp", "2",
            "-m", "4096", "-accel", "tcg,thread=multi", "-nographic", "-no-reboot", "-nic", "none",
            "-kernel", f"{LAB}/images/{L1_KERNELS[l1_kernel()]}", "-initrd", f"{LAB}/l1.cpio",
            "-virtfs", f"local,path={REPO},mount_tag=host,security_model=none,id=host0",
            "-append", f"console=ttyAMA0 rdinit=/init panic=-1 {append}{repo_arg()} lab.kernel={l1_kernel()}"]


def repo_arg():
    return "" if any(c.isspace() for c in REPO) else f" lab.repo={REPO}"


class Stop(Exception):
    def __init__(self, signum):
        self.signum = signum


def on_signal(signum, _frame):
    raise Stop(signum)


def kill_group(proc):
    """Ends QEMU (its own process group) and waits for it, so no QEMU outlives us."""
    if proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 3), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            pass


def run_native(cmdline, timeout):
    """arm64 host with /dev/kvm: the same command, same environment, no QEMU."""
    if l1_kernel() != "stock":
        say("FAILED: LAB_KERNEL=new needs the emulated lab; on this arm64 host jvmm runs on the host's own kernel")
        return LAB_FAIL_RC
    bindir = os.path.join(LAB, "native-bin")
    os.makedirs(bindir, exist_ok=True)
    with open(os.path.join(bindir, "jvmm"), "w") as f:
        f.write(f'#!/bin/sh\nexec java {JAVA_FLAGS} ${{JVMM_JAVA_OPTS:-}} -jar "{REPO}/cli/target/jvmm.jar" "$@"\n')
    os.chmod(os.path.join(bindir, "jvmm"), 0o755)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"],
               JVMM_IMAGES=os.path.join(LAB, "images"))
    proc = subprocess.Popen(["sh", "-c", cmdline], cwd=REPO, env=env, start_new_session=True)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        say(f"TIMEOUT: the command did not finish within {timeout} s; stopped it")
        return TIMEOUT_RC
    except Stop as s:
        kill_group(proc)
        return 128 + s.signum


def held_back(buf, marker):
    """How many trailing bytes of buf could be (the start of) a marker line, so are not printed yet."""
    if marker in buf:  # a complete marker whose line has not ended yet
        return len(buf) - buf.index(marker)
    for k in range(min(len(buf), len(marker)), 0, -1):
        if buf.endswith(marker[:k]):
            return k
    return 0


def run_l1(cmdline, timeout):
    nonce = secrets.token_hex(6)
    b64 = base64.b64encode((cmdline + "\n").encode()).decode()
    cmdfile = None
    if len(b64) > 1500:  # the arm64 kernel command line holds 2048 bytes: pass long ones via the share
        cmdfile = os.path.join(LAB, "run", f"cmd-{nonce}.sh")
        os.makedirs(os.path.dirname(cmdfile), exist_ok=True)
        with open(cmdfile, "w") as f:
            f.write(cmdline + "\n")
        b64 = base64.b64encode(f". ./.lab/run/cmd-{nonce}.sh\n".encode()).decode()
    arg = f"lab.cmd={b64}"
    if os.environ.get("LAB_9P"):  # experiment with 9p mount options
        arg += f" lab.9p={os.environ['LAB_9P']}"
    ready, done = f"LAB-READY-{nonce}".encode(), f"LAB-EXIT-{nonce} ".encode()
    start = time.monotonic()
    proc = subprocess.Popen(qemu_cmd(f"quiet lab.nonce={nonce} {arg}"), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    out = sys.stdout.buffer
    boot_log, line, rc, up = bytearray(), bytearray(), None, False
    fd = proc.stdout.fileno()
    try:
        while True:
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                kill_group(proc)
                out.write(bytes(line)); out.flush()
                say(f"TIMEOUT: the command did not finish within {timeout} s; lab stopped")
                return TIMEOUT_RC
            r, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not r:
                continue
            data = os.read(fd, 65536)
            if not data:
                break
            line += data.replace(b"\r", b"")
            while True:  # handle complete lines; a partial one is shown unless it may start a marker
                nl = line.find(b"\n")
                if nl < 0:
                    if up and rc is None and line:
                        keep = held_back(line, done)
                        out.write(bytes(line[:len(line) - keep])); out.flush()
                        del line[:len(line) - keep]
                    break
                text, line = bytes(line[:nl + 1]), line[nl + 1:]
                if not up:
                    if text.startswith(ready):
                        up = True
                        kernel = "" if l1_kernel() == "stock" else f" (LAB_KERNEL={l1_kernel()})"
                        say(f"L1 up in {time.monotonic() - start:.1f} s{kernel}")
                    else:
                        boot_log += text
                        if VERBOSE:
                            sys.stderr.buffer.write(text); sys.stderr.flush()
                elif rc is None and done in text:  # output without a final newline precedes it
                    at = text.index(done)
                    out.write(text[:at]); out.flush()
                    rc = int(text[at + len(done):].strip() or 1)
                elif rc is None or VERBOSE:
                    out.write(text); out.flush()
        proc.wait()
        if rc is None:
            if not up:
                sys.stderr.buffer.write(bytes(boot_log[-3000:]))
            say(f"FAILED: L1 stopped (QEMU exit status {proc.returncode}) before the command finished")
            return LAB_FAIL_RC
        return rc
    except Stop as s:
        kill_group(proc)
        say(f"stopped by signal {s.signum}; lab torn down")
        return 128 + s.signum
    finally:
        kill_group(proc)
        if cmdfile:
            os.unlink(cmdfile)


def main():
    args = sys.argv[1:]
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    if args[:1] == ["shell"]:
        if native():
            os.chdir(REPO)
            os.execvp("sh", ["sh"])
        cmd = qemu_cmd("quiet")
        print("lab: booting L1 (Ctrl-A x quits)...", file=sys.stderr, flush=True)
        os.execv(cmd[0], cmd)
    timeout = 600
    if args[:1] == ["run"]:
        args = args[1:]
        if args[:1] == ["--timeout"]:
            timeout, args = int(args[1]), args[2:]
        if args[:1] == ["--"]:
            args = args[1:]
        if len(args) != 1:
            print("usage: boot.py run [--timeout S] -- SHELL-COMMAND-LINE", file=sys.stderr)
            return 2
        try:
            return run_native(args[0], timeout) if native() else run_l1(args[0], timeout)
        except Stop as s:
            return 128 + s.signum
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
