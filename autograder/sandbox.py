"""The student's kernel, run with less than the grader's rights.

nbgrader starts the kernel as the grader, with the grader's files, network and memory. Here the
kernel command is wrapped, one layer at a time, in what this machine allows:

- limits:     prlimit caps memory, processes (no fork bomb), file size and CPU time;
- network:    unshare --net gives the kernel a network namespace with no interface but loopback;
- tmp:        in a mount namespace, /tmp, /var/tmp and /dev/shm are private, empty and small, and
              the course's secrets and the submissions are masked (autograder/view.py);
- user:       setpriv drops to an unprivileged uid that owns only its working copy, so the
              course's sources, the gradebook and other students' work (kept 0700) are unreadable.

A grader that is not root (the grading image) gets the same protection from unprivileged user
namespaces instead (autograder/view.py):

- view:       the kernel's own mount namespace, where the course's sources, the working folder
              (gradebook, other students' work) and the submissions are empty and read-only;
- pids:       its own process namespace and /proc: it sees and signals only its own processes,
              and what it leaves running dies with it.

The kernel talks over Unix sockets (IPC transport): TCP cannot cross the network namespace. Each
layer that is missing (no namespaces in an unprivileged container) is left out and said in the log.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psutil
from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer, Unicode
from traitlets.config import Configurable

from . import view

KERNEL_ROOT = Path("/run/eds-kernels")
KERNEL_HOME_PREFIX = "eds-kernel-"
HIDDEN_ENV = "EDS_HIDDEN"  # what each kernel's mount namespace masks (the grader's; never the kernel's)
KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TZ", "EDS_DATA_DIR", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "PYTHONWARNINGS",
                    "MPLBACKEND", "EDS_SANDBOX_UID", "NBGRADER_EXECUTION")


class GradingLimits(Configurable):
    """What one notebook may use (set them in nbgrader_config.py as c.GradingLimits.<name>)."""

    memory_bytes = Integer(6 * 1024**3, help="address space of the kernel").tag(config=True)
    processes = Integer(256, help="processes and threads of the sandbox uid (no fork bomb)").tag(config=True)
    file_bytes = Integer(256 * 1024**2, help="largest file the kernel may write").tag(config=True)
    cpu_seconds = Integer(900, help="CPU time of the kernel").tag(config=True)
    open_files = Integer(1024).tag(config=True)
    notebook_seconds = Integer(900, help="wall-clock time to grade one submission").tag(config=True)
    submission_bytes = Integer(50 * 1024**2, help="largest notebook accepted").tag(config=True)


def _runs(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def hidden_by_private_tmp(paths: list[str]) -> str | None:
    """The first of `paths` that a private /tmp would hide from the kernel (its Python, the course)."""
    for path in paths:
        if any(view.inside(os.path.realpath(path), top) for top in view.PRIVATE_TMP):
            return path
    return None


@functools.lru_cache(maxsize=1)
def kernel_files_in_tmp() -> str | None:
    """The kernel's Python or the course, when a private /tmp would hide it (decided once)."""
    return hidden_by_private_tmp([sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parent.parent)])


def _as_root() -> bool:
    return os.geteuid() == 0


@functools.lru_cache(maxsize=1)
def available_layers() -> tuple[str, ...]:
    """The isolation layers this machine can set, probed once per process."""
    layers = []
    if shutil.which("prlimit"):
        layers.append("limits")
    if not shutil.which("unshare"):
        return tuple(layers)
    if _as_root():
        if _runs(["unshare", "--net", "--ipc", "--mount", "true"]):
            layers += ["network"] + ([] if kernel_files_in_tmp() else ["tmp"])
        return tuple(layers + (["user"] if shutil.which("setpriv") else []))
    tmp = not kernel_files_in_tmp()
    if _view_works(tmp, pids=False):
        layers += ["network", "view"] + (["tmp"] if tmp else [])
        if _view_works(tmp, pids=True):
            layers.append("pids")
    return tuple(layers)


def _view_works(private_tmp: bool, pids: bool) -> bool:
    """Run the view layer's whole script once around `true`: a folder and a file masked (this
    package's templates and marker, which exist wherever the grader runs), a folder bound back."""
    package = Path(__file__).parent
    masked = [str(package / "templates"), str(package / "__init__.py")]
    with tempfile.TemporaryDirectory(prefix=KERNEL_HOME_PREFIX) as kept:
        return _runs(view.command(["true"], masked, [Path(kept)], private_tmp, pids, limits=[]))


def expected_layers() -> tuple[str, ...]:
    """Root needs no view or pids layer: the kernel's own uid already keeps it from the grader's
    files and processes."""
    return ("limits", "network", "tmp", "user") + (() if _as_root() else ("view", "pids"))


def missing_layers() -> list[str]:
    return [layer for layer in expected_layers() if layer not in available_layers()]


def why_missing(layer: str) -> str:
    layers = available_layers()
    if layer == "tmp" and "network" in layers and kernel_files_in_tmp():
        return f"{kernel_files_in_tmp()} is under /tmp, which a private /tmp would hide from the kernel"
    if layer == "user" and not _as_root():
        covered = " (the view layer hides the course's secrets from it)" if "view" in layers else ""
        return f"not root: the kernel runs with the grader's uid{covered}"
    if layer == "pids" and "view" in layers:
        return ("/proc cannot be mounted for the kernel (in a podman container: --security-opt unmask=/proc/*), "
                "so it could signal the grader and what it leaves running outlives it")
    if layer in ("network", "tmp", "view", "pids") and not _as_root():
        return "no unprivileged user namespaces here (a container's seccomp profile, or a sysctl)"
    return "not possible on this machine"


def describe_layers(limits: GradingLimits) -> list[str]:
    """One line per layer, for the grading log of every submission."""
    text = {
        "limits": f"limits: memory {limits.memory_bytes // 1024**2} MiB, {limits.processes} processes, "
                  f"files {limits.file_bytes // 1024**2} MiB, CPU {limits.cpu_seconds} s",
        "network": "network: none (own network and IPC namespaces)",
        "tmp": "tmp: private /tmp, /var/tmp, /dev/shm" + (
            "; sources, gradebook and submissions masked (own mount namespace)" if _as_root() else ""),
        "user": "user: unprivileged uid owning only its working copy",
        "view": "view: sources, gradebook and other submissions hidden, read-only (own user and mount namespaces)",
        "pids": "pids: own process namespace, sees and signals only its own processes",
    }
    return ([f"isolation {text[layer]}" for layer in available_layers()]
            + [f"isolation MISSING {layer}: {why_missing(layer)}" for layer in missing_layers()])


def job_uid(slot: int) -> int:
    """A uid no other grading run on this machine uses at the same time (its pid is unique), so
    that killing what a job left behind never touches another run's kernels."""
    return 200_000 + os.getpid() * 16 + slot


FIRST_SUBMISSION_UID, SUBMISSION_UIDS = 1 << 24, (1 << 31) - (1 << 24)


def submission_uid() -> int:
    """A uid for one submission alone: drawn afresh, so that no other student of this run or a
    later one gets it (two draws meet once in about two billion), above every job_uid."""
    return FIRST_SUBMISSION_UID + secrets.randbelow(SUBMISSION_UIDS)


def sandbox_uid() -> int:
    """The uid of this process's kernels: its job's under `grade` (parallel jobs get distinct uids,
    so that their process limits and files stay apart), else one of this process's own (nbgrader's
    autograde, the formgrader's included, grades one notebook at a time)."""
    return int(os.environ.get("EDS_SANDBOX_UID", job_uid(0)))


def wrap(cmd: list[str], layers: tuple[str, ...], uid: int, limits: GradingLimits,
         kept: tuple[Path, ...] = ()) -> list[str]:
    """The kernel command inside every available layer (outermost first); `kept` are the folders
    the view layer leaves visible (the kernel's working copy and home)."""
    prefix: list[str] = []
    if "limits" in layers:
        prefix += ["prlimit", f"--as={limits.memory_bytes}", f"--nproc={limits.processes}",
                   f"--fsize={limits.file_bytes}", f"--cpu={limits.cpu_seconds}",
                   f"--nofile={limits.open_files}", "--"]
    if "view" in layers:
        return view.command(cmd, hidden(), list(kept), "tmp" in layers, "pids" in layers, limits=prefix)
    if "network" in layers and "tmp" in layers:
        mounts = view.script(hidden(), [str(p) for p in kept], private_tmp=True, then='exec "$@"')
        prefix += ["unshare", "--net", "--ipc", "--mount", "--", "sh", "-c", mounts, "sandbox"]
    elif "network" in layers:
        prefix += ["unshare", "--net", "--ipc", "--"]
    if "user" in layers:
        prefix += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--"]
    return prefix + cmd


def hidden() -> list[str]:
    """What the kernel's mount namespace masks, as `protect` chose it (inherited by the workers)."""
    paths = json.loads(os.environ.get(HIDDEN_ENV, "[]"))
    private_tmp = view.PRIVATE_TMP if "tmp" in available_layers() else ()
    kernel_files = [sys.prefix, sys.base_prefix, os.environ.get("EDS_DATA_DIR", sys.prefix)]
    return view.hidden_paths(paths, private_tmp, [os.path.realpath(p) for p in kernel_files])


def give(path: Path, uid: int) -> None:
    """Hand a working copy to a uid, readable by no other (other students' kernels included)."""
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, uid, follow_symlinks=False)
    os.chown(path, uid, uid)
    os.chmod(path, 0o700)


def contents(folder: Path) -> set[str]:
    """Every name under `folder`, relative to it: what a working copy holds before its kernel runs."""
    return {os.path.relpath(os.path.join(root, name), folder)
            for root, dirs, files in os.walk(folder) for name in dirs + files}


def reap(uid: int) -> None:
    """Kill whatever still runs under a kernel's uid (a fork bomb's sleepers, a process left to race
    the grader) and wait until it is gone. Only kernels with a uid of their own (the user layer):
    without it, the pids layer ends what a kernel leaves when the kernel ends."""
    if "user" not in available_layers():
        return
    for _ in range(20):  # a fork bomb may still be forking while the first ones die
        procs = [p for p in psutil.process_iter(["uids", "status"])
                 if p.info["uids"] and p.info["uids"].effective == uid and lingering(p)]
        if not procs:
            return
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(procs, timeout=1)


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


def _open_up(folder: Path) -> None:
    """Every folder of a working copy listable and writable by the grader, so that seal can clear
    it: a kernel with the grader's uid (not root) can leave folders of mode 0 or read-only."""
    os.chmod(folder, stat.S_IRWXU)
    for _, dirnames, _, dirfd in os.fwalk(folder):
        for name in dirnames:
            if stat.S_ISDIR(os.stat(name, dir_fd=dirfd, follow_symlinks=False).st_mode):
                os.chmod(name, stat.S_IRWXU, dir_fd=dirfd)


def seal(folder: Path, kept: set[str]) -> None:
    """A kernel's working copy once the kernel is gone: back to root, and holding only what was
    there before the kernel (`kept`), as plain files and folders. Links, special files and hard links
    would take the grader's next write elsewhere; whatever else the kernel wrote would go on to the
    student's feedback folder (nbgrader's feedback copies every file beside the notebook: a 256 MB
    junk file, twice). What the kernel left running is killed first, and every step goes through
    folder descriptors (os.fwalk), so that no folder swapped for a link mid-way leads out."""
    reap(sandbox_uid())
    if "user" in available_layers():
        give(folder, 0)
    _open_up(folder)
    for dirpath, dirnames, filenames, dirfd in os.fwalk(folder, topdown=False):
        for name in dirnames + filenames:
            info = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            plain = stat.S_ISDIR(info.st_mode) or (stat.S_ISREG(info.st_mode) and info.st_nlink == 1)
            if plain and os.path.relpath(os.path.join(dirpath, name), folder) in kept:
                continue
            if stat.S_ISDIR(info.st_mode):
                os.rmdir(name, dir_fd=dirfd)
            else:
                os.unlink(name, dir_fd=dirfd)


def protect(folders: list[Path], files: list[Path], traversable: list[Path], inboxes: list[Path]) -> None:
    """Make the course's secrets unreadable to the kernels.

    As root: root-only folders and files for the sandbox uids. Missing folders are made first, so
    that what grading writes into them later is covered too. `traversable` folders (the working
    folder, autograded/) may be crossed to reach a working copy, but not listed. `inboxes` (where
    the submissions are read from) are not ours to change. Besides, each kernel's mount namespace
    (tmp or view layer) masks all of them.
    """
    os.environ[HIDDEN_ENV] = json.dumps([str(p) for p in traversable + folders + files + inboxes])
    if "user" not in available_layers():
        return
    for path in traversable + folders:
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o711 if path in traversable else 0o700)
    for path in files:
        if path.exists():
            os.chmod(path, 0o600)


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel inside `wrap` and over IPC."""

    transport = Unicode("ipc")

    async def _async_pre_start_kernel(self, **kw):
        layers = available_layers()
        uid = sandbox_uid()
        if "user" in layers:
            KERNEL_ROOT.mkdir(mode=0o711, exist_ok=True)
            home = KERNEL_ROOT / uuid.uuid4().hex[:12]
            home.mkdir(mode=0o700)
            os.chown(home, uid, uid)
        else:  # not root: a private folder of the grader's, named absolutely for both ends
            home = Path(tempfile.mkdtemp(prefix=KERNEL_HOME_PREFIX))
        # Absolute socket and connection paths: the kernel's working folder is not the grader's.
        self.connection_file = str(home / "kernel.json")
        self.ip = str(home / "ipc")
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        # The kernel's own stderr (IPython's start-up chatter) goes to a file of its own, not into
        # the grader's output.
        kw["stderr"] = kw["stdout"] = open(home / "kernel.log", "ab")
        if "user" in layers:
            os.chown(self.connection_file, uid, uid)
            if kw.get("cwd"):
                give(Path(kw["cwd"]), uid)
        kw["env"] = {k: v for k, v in kw.get("env", os.environ).items() if k in KEPT_ENVIRONMENT}
        kw["env"].update(HOME=str(home), MPLCONFIGDIR=str(home / ".matplotlib"),
                         IPYTHONDIR=str(home / ".ipython"), PYTHONNOUSERSITE="1")
        kept = tuple(Path(p) for p in (kw.get("cwd"), home) if p)
        return wrap(kernel_cmd, layers, uid, GradingLimits(config=self.config), kept), kw

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        home = Path(self.connection_file).parent
        if home.parent == KERNEL_ROOT or home.name.startswith(KERNEL_HOME_PREFIX):
            shutil.rmtree(home, ignore_errors=True)
