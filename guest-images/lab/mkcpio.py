#!/usr/bin/env python3
"""Writes a newc cpio archive (an initramfs) from one or more directory trees.

Later trees override earlier ones path by path, so a big extracted root and a small overlay are
packed without first copying 400 MiB into a staging folder. Every entry is owned by root, mtimes
are zero (same inputs, same bytes), device nodes come from --dev because an unprivileged build
cannot mknod. Usage:
  mkcpio.py OUT [--gzip] [--exclude REL]... [--dev REL:c:MAJ:MIN]... TREE...
"""
import argparse
import gzip
import os
import stat
import sys


def header(out, ino, mode, nlink, size, namesize, rdev=(0, 0)):
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], namesize, 0]
    out.write(b"070701" + b"".join(b"%08X" % f for f in fields))


def pad(out, n):
    if n % 4:
        out.write(b"\0" * (4 - n % 4))


def entry(out, ino, name, mode, data=b"", rdev=(0, 0), src=None, size=0):
    bname = name.encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(mode) else 1
    header(out, ino, mode, nlink, size if src else len(data), len(bname), rdev)
    out.write(bname)
    pad(out, 110 + len(bname))
    if src:
        with open(src, "rb") as f:
            while chunk := f.read(1 << 20):
                out.write(chunk)
        pad(out, size)
    else:
        out.write(data)
        pad(out, len(data))


def collect(trees, excludes):
    """Maps archive path -> source path; later trees win."""
    paths = {}
    for tree in trees:
        for dirpath, dirnames, filenames in os.walk(tree):
            rel_dir = os.path.relpath(dirpath, tree)
            for name in dirnames[:] + filenames:
                rel = os.path.normpath(os.path.join(rel_dir, name))
                if any(rel == e or rel.startswith(e + "/") for e in excludes):
                    if name in dirnames:
                        dirnames.remove(name)
                    continue
                paths[rel] = os.path.join(dirpath, name)
            # os.walk does not descend into symlinked dirs; that is what we want
    return paths


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--exclude", action="append", default=[])
    ap.add_argument("--dev", action="append", default=[])
    ap.add_argument("trees", nargs="+")
    a = ap.parse_args()
    paths = collect(a.trees, [e.strip("/") for e in a.exclude])
    tmp = a.out + ".tmp"
    raw = open(tmp, "wb")
    out = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) if a.gzip else raw
    ino = 1
    for rel in sorted(paths):
        src = paths[rel]
        st = os.lstat(src)
        mode = st.st_mode
        if stat.S_ISLNK(mode):
            entry(out, ino, rel, mode, os.readlink(src).encode())
        elif stat.S_ISDIR(mode):
            entry(out, ino, rel, mode)
        elif stat.S_ISREG(mode):
            entry(out, ino, rel, mode, src=src, size=st.st_size)
        else:
            continue  # sockets, fifos, host device nodes: never wanted in a guest root
        ino += 1
    for spec in a.dev:
        rel, kind, major, minor = spec.split(":")
        mode = (stat.S_IFCHR if kind == "c" else stat.S_IFBLK) | 0o600
        entry(out, ino, rel.strip("/"), mode, rdev=(int(major), int(minor)))
        ino += 1
    entry(out, 0, "TRAILER!!!", 0)
    if a.gzip:
        out.close()
    raw.close()
    os.replace(tmp, a.out)


if __name__ == "__main__":
    sys.exit(main())
