"""The kernel's own root: a minimal view of the machine, as a container would give it.

Masking what we know to be secret leaves out what we did not think of (another user's home, a
world-readable file in /srv, the grader's venv, writable by the grader's uid). So the kernel gets a
root of its own instead, built in its mount namespace on an empty tmpfs:

- read-only: /usr (and /bin, /lib, /sbin, the links into it), a few files of /etc (the loader's
  cache, passwd, hosts, time zone), the kernel's Python (its venv and the Python under it) and the
  course's data/;
- writable: its working copy, its home and private /tmp, /var/tmp, /dev/shm, each a tmpfs of its own
  with a size cap (the working copy and home start as copies of the grader's folders), so that a
  kernel fills memory it is allowed, not the machine's disk; and the folder of its connection file
  and sockets, which the grader must reach (a capped tmpfs of the grader's, as root: kernel.py);
- /dev with null, zero, full, random, urandom and tty alone; a /proc of its own pid namespace
  (the machine's /proc when none can be mounted).

Then pivot_root into it, the old root detached: the course's sources, the gradebook, the other
submissions and the rest of the machine are not hidden, they are not there, and nothing the kernel
can write outlives it but its working copy (sealed afterwards). As root the script runs in a mount
namespace before setpriv drops the uid (kernel.py); without root, inside unprivileged user
namespaces (`command`): a first one whose root builds the view, then a nested one that locks those
mounts (they cannot be unmounted or made writable from it) and leaves the kernel no capability.
"""
from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

SYSTEM_TOP = ("/bin", "/lib", "/lib32", "/lib64", "/libx32", "/sbin", "/usr")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "passwd", "group", "nsswitch.conf", "hosts", "host.conf",
             "resolv.conf", "services", "protocols", "localtime", "timezone", "mime.types")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")
SMALL_TMP = 64 * 1024**2   # /var/tmp and /dev/shm: /tmp gets the limit's size
# Files per tmpfs: one for every 8 KiB of its size, at least 4096. A tmpfs's default (half the
# machine's pages) let one kernel pin gigabytes of unreclaimable kernel memory in empty files, which
# no size cap or memory limit counts (about 1 KB each: 4.9 million in 80 s, measured).
BYTES_PER_INODE = 8 * 1024
MIN_INODES = 4096
STAGE = ".view"  # in the kernel's home: where the new root is built, an empty folder to the kernel
# pivot_root lives in /usr/sbin, which a user's PATH does not hold on Debian: without this, a
# grader that is not root found no view at all and graded with no isolation layer.
PIVOT_ROOT = shutil.which("pivot_root", path=os.pathsep.join([os.environ.get("PATH", os.defpath),
                                                               "/usr/sbin", "/sbin"])) or "pivot_root"


def tmpfs_options(size: int, mode: str) -> str:
    """Mount options of a tmpfs capped in bytes and in files."""
    return f"size={size},nr_inodes={max(MIN_INODES, size // BYTES_PER_INODE)},mode={mode}"


def inside(path: str, folder: str) -> bool:
    """Whether `path` is `folder` or below it (by name: both already resolved)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def kernel_files(data_dir: Path | None) -> list[str]:
    """What the kernel reads besides the system: its Python (the venv as named, and the Python it
    was made from, unless that is the system's own, under /usr) and the course's data, those that exist."""
    paths = [os.path.abspath(p) for p in [sys.prefix, sys.base_prefix] + ([str(data_dir)] if data_dir else [])]
    return list(dict.fromkeys(p for p in paths if os.path.exists(p) and not any(inside(p, top) for top in SYSTEM_TOP)))


def describe(readonly: list[str]) -> str:
    """What the view holds, for the grading log."""
    system = [p for p in SYSTEM_TOP if os.path.isdir(p) and not os.path.islink(p)]
    return (f"own root holding only {', '.join(system)}, /etc/{{{','.join(_etc_files())}}}, "
            f"{', '.join(readonly)} (read-only); its working copy, its home, private "
            f"{', '.join(PRIVATE_TMP)} (writable, size-capped tmpfs); /dev/{{{','.join(DEVICES)}}}; "
            "its own /proc")


def _etc_files() -> list[str]:
    return [name for name in ETC_FILES if os.path.exists(f"/etc/{name}")]


@dataclass(frozen=True)
class View:
    """The contents of one kernel's root; `home` holds the folder the root is built in."""
    readonly: tuple[str, ...]
    writable: tuple[str, ...]
    home: str
    workdir: str | None
    # Writable folders that get a size-capped tmpfs of their own in the view, holding a copy of what
    # the folder held (the working copy, the kernel's home): (path, bytes). Their writes never
    # reach the real folder, and stop at the cap with ENOSPC.
    capped: tuple[tuple[str, int], ...] = ()
    tmp_bytes: int = 256 * 1024**2

    def script(self, pids: bool, then: str) -> str:
        """Shell run as root of a new mount namespace: build the root, enter it, then run `then`
        (which runs "$@")."""
        root = os.path.join(self.home, STAGE)
        q = shlex.quote
        r = lambda path: q(root + path)  # noqa: E731 (a path inside the new root)
        lines = ["set -e", f"mkdir -p {q(root)}", f"mount -t tmpfs -o {tmpfs_options(4 * 1024**2, '755')} tmpfs {q(root)}",
                 f"mkdir -p {r('/etc')} {r('/dev')} {r('/proc')} {r('/var')} {r('/run')}"]
        for top in SYSTEM_TOP:
            if os.path.islink(top):
                lines.append(f"ln -s {q(os.readlink(top))} {r(top)}")
            elif os.path.isdir(top):
                lines += [f"mkdir -p {r(top)}"] + _bind(top, root + top, readonly=True)
        for name in _etc_files():
            lines += [f": > {r('/etc/' + name)}"] + _bind(f"/etc/{name}", f"{root}/etc/{name}", readonly=True)
        for name in DEVICES:
            if os.path.exists(f"/dev/{name}"):
                lines += [f": > {r('/dev/' + name)}", f"mount --bind /dev/{name} {r('/dev/' + name)}"]
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
            lines.append(f"ln -s {target} {r('/dev/' + name)}")
        for path in PRIVATE_TMP:
            size = self.tmp_bytes if path == "/tmp" else min(SMALL_TMP, self.tmp_bytes)
            lines += [f"mkdir -p {r(path)}", f"mount -t tmpfs -o {tmpfs_options(size, '1777')} tmpfs {r(path)}"]
        lines.append(f"mount -t proc proc {r('/proc')}" if pids else f"mount --rbind /proc {r('/proc')}")
        binds = [(p, True, None) for p in self.readonly] + [(p, False, None) for p in self.writable] + [
            (p, False, size) for p, size in self.capped]
        for path, readonly, size in sorted(binds, key=lambda b: b[0].count("/")):  # outer folders first
            lines += _place(path, root, readonly, size)
        workdir = q(self.workdir) if self.workdir else "/"
        lines += [f"mkdir {r('/.old')}", f"cd {q(root)}", f"{q(PIVOT_ROOT)} . .old", "umount -l /.old",
                  "rmdir /.old", "mount -o remount,bind,ro /", f"cd {workdir}", then]
        return "\n".join(lines)

    def command(self, cmd: list[str], pids: bool, limits: list[str], as_root: bool) -> list[str]:
        """`cmd` in this view, inside its own network and mount namespaces (and process namespace
        with `pids`); without root, inside user namespaces too.

        The `limits` (a prlimit command) are set inside the namespaces: the kernel counts its
        processes against every user namespace above it with the limit each was created with, so a
        process cap set outside would be shared by the grader and every other kernel of its uid.
        """
        outer = ["unshare"] + ([] if as_root else ["--user", "--map-root-user"]) + ["--net", "--ipc", "--mount"]
        if pids:
            outer += ["--pid", "--fork", "--kill-child"]
        inner = limits + ([] if as_root else ["unshare", "--user", f"--map-user={os.getuid()}",
                                              f"--map-group={os.getgid()}", "--mount", "--"])
        then = f'exec {shlex.join(inner)} "$@"' if inner else 'exec "$@"'
        return outer + ["--", "sh", "-c", self.script(pids, then), "view"] + cmd


def _bind(source: str, target: str, readonly: bool) -> list[str]:
    """Bind `source` on `target`; read-only ones also nosuid and nodev (allowed wherever the
    source's own flags are locked, as in a user namespace)."""
    lines = [f"mount --bind {shlex.quote(source)} {shlex.quote(target)}"]
    if readonly:
        lines.append(f"mount -o remount,bind,ro,nosuid,nodev {shlex.quote(target)}")
    return lines


def _place(path: str, root: str, readonly: bool, size: int | None = None) -> list[str]:
    """`path` at its own name in the new root: its real folder bound there (or, with a `size`, a
    tmpfs of that size holding a copy of it, owner and modes kept), and the name a link to it where
    the name goes through one (a venv reached through a symbolic link)."""
    real = os.path.realpath(path)
    q = shlex.quote
    lines = []
    for name in dict.fromkeys([real, path]):
        if name != real:
            lines += [f"mkdir -p {q(root + os.path.dirname(name))}", f"ln -s {q(real)} {q(root + name)}"]
        elif size is not None:
            lines += [f"mkdir -p {q(root + real)}", f"mount -t tmpfs -o {tmpfs_options(size, '700')} tmpfs {q(root + real)}",
                      f"cp -a {q(real + '/.')} {q(root + real + '/')}"]
        elif not any(inside(real, top) for top in SYSTEM_TOP if not os.path.islink(top)):
            lines += [f"mkdir -p {q(root + real)}"] + _bind(real, root + real, readonly)
    return lines
