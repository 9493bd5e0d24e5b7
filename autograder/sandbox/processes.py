"""The uids kernels run under, and the end of whatever a kernel leaves running."""
from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import tempfile
from pathlib import Path

import psutil

from . import keyrings


KERNEL_ROOT = Path("/run/eds-kernels")   # as root, each kernel's connection folder is in it (kernel.py)
PRIVATE_PREFIX = "eds-grader-"   # without root, the grader's folder around one kernel's connection folder


def job_uid(slot: int) -> int:
    """A uid no other grading run on this machine uses at the same time (its pid is unique), so
    that killing what a job left behind never touches another run's kernels."""
    return 200_000 + os.getpid() * 16 + slot


FIRST_SUBMISSION_UID, SUBMISSION_UIDS = 1 << 24, (1 << 31) - (1 << 24)


def submission_uid() -> int:
    """A uid for one submission alone: drawn afresh, so that no other student of this run or a
    later one gets it (two draws meet once in about two billion), above every job_uid."""
    return FIRST_SUBMISSION_UID + secrets.randbelow(SUBMISSION_UIDS)


def reap(uid: int, layers: tuple[str, ...]) -> None:
    """Kill whatever still runs under a kernel's uid (a fork bomb's sleepers, a process left to race
    the grader) and wait until it is gone; then drop the keyrings it made under that uid. Only
    kernels with a uid of their own (the user layer among `layers`): without it, the pids layer ends
    what a kernel leaves when the kernel ends, and the worker only removes its connection folder."""
    if "user" not in layers:
        for folder in Path(tempfile.gettempdir()).glob(f"{PRIVATE_PREFIX}{uid}-*"):
            discard(folder)
        return
    for _ in range(20):  # a fork bomb may still be forking while the first ones die
        procs = [p for p in psutil.process_iter(["uids", "status"])
                 if p.info["uids"] and p.info["uids"].effective == uid and lingering(p)]
        if not procs:
            break
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(procs, timeout=1)
    keyrings.drop(uid)   # the keyrings the kernel made under its uid, and their keys
    discard_connection_folders(uid)


def discard_connection_folders(uid: int) -> None:
    """The connection folders of `uid`'s kernels (each a tmpfs of the grader's), which the kernel
    manager removes when it ends the kernel, but not when the grading worker itself was killed (a
    submission over its time): unmounted and removed."""
    try:
        folders = [folder for folder in KERNEL_ROOT.iterdir() if folder.lstat().st_uid == uid and folder.is_dir()]
    except OSError:
        return
    for folder in folders:
        discard(folder)


def private_folder(uid: int) -> Path:
    """Without root: a folder of the grader's (mode 0700, named for the submission's uid, so that reap
    finds it if the worker was killed) to hold one kernel's connection folder. The kernel owns what
    it is given (it has the grader's uid) and may open it to every user, with a set-uid copy of
    Python in it; this folder around it is never in its view, so no other user reaches in."""
    return Path(tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{uid}-"))


def discard(folder: Path) -> None:
    """A kernel's connection folder gone: its tmpfs unmounted (as root), then the folder removed,
    whatever modes the kernel left on the folders it made (without root it owns them, and so does
    the grader: nothing of another user's can be touched). coreutils' chmod and rm walk a tree of
    any depth and follow no link; Python 3.11's os.walk and shutil.rmtree recurse, and a kernel that
    nested 3000 folders made them fail and leave everything in /tmp (red team, issue 22)."""
    if os.path.ismount(folder):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)
    if os.geteuid() != 0:
        subprocess.run(["chmod", "-R", "u+rwx", "--", str(folder)], capture_output=True, check=False)
    subprocess.run(["rm", "-rf", "--one-file-system", "--", str(folder)], capture_output=True, check=False)


def lingering(proc: psutil.Process) -> bool:
    """Running, or a zombie whose other threads still run: a leader that left with exit(), not
    exit_group(), reads as a zombie while its threads go on (a kill of its pid ends them all)."""
    if proc.info["status"] != psutil.STATUS_ZOMBIE:
        return True
    try:
        tasks = os.listdir(f"/proc/{proc.pid}/task")
    except OSError:
        return False
    return any(_task_state(proc.pid, task) not in ("Z", "X", "") for task in tasks)


def _task_state(pid: int, task: str) -> str:
    try:
        stat_line = Path(f"/proc/{pid}/task/{task}/stat").read_text()
    except OSError:
        return ""
    return stat_line.rpartition(")")[2].split()[0]

