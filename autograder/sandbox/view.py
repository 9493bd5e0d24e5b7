"""The kernel's own view of the machine, for a grader that is not root (the grading image).

Without root the kernel cannot get a uid of its own, so it is kept from the grader's files another
way: unprivileged user namespaces. The kernel command runs inside

    unshare --user --map-root-user --net --ipc --mount [--pid --fork --kill-child --mount-proc]
        sh -c SCRIPT
            prlimit <limits> unshare --user --map-user=<grader uid> --map-group=<grader gid> --mount
                <kernel>

(As root, the sandbox's tmp layer runs the same script, minus the namespaces, before setpriv.)
The script, running as root of the first namespace, mounts an empty read-only tmpfs over each
hidden folder (the course's sources, the working folder with the gradebook, the submissions) and
private tmpfs on /tmp, /var/tmp and /dev/shm, then binds back what the kernel needs (its working
copy and its home), reached through file descriptors opened before the masks. The second namespace
locks those mounts (a namespace cannot unmount what a more privileged one mounted over a path) and
leaves the kernel without capabilities. From there the kernel can neither reach the grader's files
through /proc/<pid>/root (the kernel's capabilities stop at its own namespace) nor, with its own
process namespace and /proc, see or signal any process but its own, which all die with it.
"""
from __future__ import annotations

import os
import shlex
from pathlib import Path

# What a private /tmp gets: room for scratch files, nothing shared with the grader or other kernels.
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")
TMP_MOUNTS = ("mount -t tmpfs -o size=256m,mode=1777 tmpfs /tmp",
              "mount -t tmpfs -o size=64m,mode=1777 tmpfs /var/tmp",
              "mount -t tmpfs -o size=64m,mode=1777 tmpfs /dev/shm",
              "{ [ ! -d /run/lock ] || mount -t tmpfs -o size=1m,mode=1777 tmpfs /run/lock; }")
FIRST_FD = 3  # the shell's descriptors 3..9 carry the kept folders across the masks


def inside(path: str, folder: str) -> bool:
    """Whether `path` is `folder` or below it (by name: both already resolved)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def hidden_paths(paths: list[str], private_tmp: tuple[str, ...], kernel_files: list[str]) -> list[str]:
    """The paths to mask, each once: existing, outermost first, none inside a private /tmp (already
    emptied) nor holding the kernel's own files (its Python, the course data)."""
    chosen: list[str] = []
    for path in sorted({os.path.realpath(p) for p in paths}, key=len):
        if not os.path.lexists(path) or any(inside(path, top) for top in [*private_tmp, *chosen]):
            continue
        if any(inside(own, path) for own in kernel_files):
            continue
        chosen.append(path)
    return chosen


def script(hidden: list[str], kept: list[str], private_tmp: bool, then: str) -> str:
    """The shell script run as root of a new mount namespace, ending in `then` (which runs "$@")."""
    if len(kept) > 7:
        raise ValueError("at most 7 kept folders (shell descriptors 3..9)")
    fds = {path: FIRST_FD + i for i, path in enumerate(kept)}
    lines = ["set -e"] + [f"exec {fd}<{shlex.quote(path)}" for path, fd in fds.items()]
    lines += list(TMP_MOUNTS) if private_tmp else []
    masks = [shlex.quote(path) for path in hidden if os.path.isdir(path)]
    lines += [f"mount -t tmpfs -o size=64k,mode=755 tmpfs {mask}" for mask in masks]
    # A file is masked by /dev/null: it reads empty, and what is written to it goes nowhere.
    lines += [f"mount --bind /dev/null {shlex.quote(path)}" for path in hidden if not os.path.isdir(path)]
    for path, fd in fds.items():
        quoted = shlex.quote(path)
        lines += [f"mkdir -p {quoted}", f"mount --no-canonicalize --bind /proc/self/fd/{fd} {quoted}",
                  f"exec {fd}<&-"]
    # Read-only once the kept folders have their mount points in them.
    lines += [f"mount -o remount,bind,ro {mask}" for mask in masks]
    return "\n".join(lines + [then])


def command(cmd: list[str], hidden: list[str], kept: list[Path], private_tmp: bool, pids: bool,
            limits: list[str]) -> list[str]:
    """`cmd` inside its own user, network and mount namespaces (and process namespace with `pids`).

    The `limits` (a prlimit command) are set inside the first namespace: the kernel counts its
    processes against every user namespace above it with the limit each was created with, so a
    process cap set outside would be shared by the grader and every other kernel of its uid.
    """
    outer = ["unshare", "--user", "--map-root-user", "--net", "--ipc", "--mount"]
    if pids:
        outer += ["--pid", "--fork", "--kill-child", "--mount-proc"]
    locked = shlex.join(limits + ["unshare", "--user", f"--map-user={os.getuid()}", f"--map-group={os.getgid()}",
                                  "--mount", "--"])
    return outer + ["--", "sh", "-c", script(hidden, [str(p) for p in kept], private_tmp, f'exec {locked} "$@"'),
                    "view"] + cmd
