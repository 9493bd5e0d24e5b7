"""Which isolation layers this machine can set, and the lines the grading log gives them."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from typing import TYPE_CHECKING

from . import syscalls, view

if TYPE_CHECKING:
    from .policy import Policy

KERNEL_HOME_PREFIX = "eds-kernel-"


def _runs(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _as_root() -> bool:
    return os.geteuid() == 0


@functools.lru_cache(maxsize=1)
def available_layers() -> tuple[str, ...]:
    """The isolation layers this machine can set, probed once per process. As root the network
    namespace needs no user namespace; without root, it comes with the view's."""
    layers = (["limits"] if shutil.which("prlimit") else []) + (["syscalls"] if syscalls.works() else [])
    if not shutil.which("unshare"):
        return tuple(layers)
    if _as_root() and _runs(["unshare", "--net", "--ipc", "true"]):
        layers.append("network")
    if _view_works(pids=False):
        layers += ([] if _as_root() else ["network"]) + ["view", "tmp"]
        if _view_works(pids=True):
            layers.append("pids")
    if _as_root() and shutil.which("setpriv"):
        layers.append("user")
    return tuple(layers)


def _view_works(pids: bool) -> bool:
    """Build the kernel's view once around `true`, as a kernel gets it."""
    with tempfile.TemporaryDirectory(prefix=KERNEL_HOME_PREFIX) as home:
        built = view.View(readonly=tuple(view.kernel_files(None)), writable=(home,), home=home, workdir=home)
        return _runs(built.command(["true"], pids, limits=[], as_root=_as_root()))


def expected_layers() -> tuple[str, ...]:
    """The same for root and not: without root, only the uid of its own is out of reach."""
    return ("limits", "syscalls", "network", "view", "tmp", "pids", "user")


def missing_layers(layers: tuple[str, ...]) -> list[str]:
    """The expected layers not among `layers`."""
    return [layer for layer in expected_layers() if layer not in layers]


def why_missing(layer: str, layers: tuple[str, ...]) -> str:
    if layer == "user" and not _as_root():
        covered = " (its view holds none of the grader's files but its working copy)" if "view" in layers else ""
        return f"not root: the kernel runs with the grader's uid{covered}"
    if layer == "pids" and "view" in layers:
        return ("/proc cannot be mounted for the kernel (in a podman container: --security-opt unmask=/proc/*), "
                "so it could signal the grader and what it leaves running outlives it")
    if layer == "syscalls":
        return "no libseccomp here (apt-get install libseccomp2), or this machine refuses seccomp filters"
    if layer in ("network", "tmp", "view", "pids") and not _as_root():
        return "no unprivileged user namespaces here (a container's seccomp profile, or a sysctl)"
    return "not possible on this machine"


def describe_layers(policy: Policy) -> list[str]:
    """One line per layer of `policy`, for the grading log of every submission: the view's line says
    what the kernel's root holds."""
    limits = policy.limits
    text = {
        "limits": f"limits: memory {limits.memory_bytes // 1024**2} MiB, {limits.processes} processes, "
                  f"files {limits.file_bytes // 1024**2} MiB, CPU {limits.cpu_seconds} s; writes at most "
                  f"{limits.workcopy_bytes // 1024**2} MiB in its working copy, {limits.home_bytes // 1024**2} MiB "
                  f"in its home, {limits.tmp_bytes // 1024**2} MiB in /tmp (tmpfs in the view)",
        "syscalls": f"syscalls: {', '.join(syscalls.REFUSED)} refused (a seccomp filter, by libseccomp)",
        "network": "network: none (own network and IPC namespaces)",
        "tmp": "tmp: private /tmp, /var/tmp, /dev/shm (in the view)",
        "user": "user: unprivileged uid owning only its working copy",
        "view": f"view: {view.describe(view.kernel_files(policy.data_dir))} (own mount namespace, pivot_root)",
        "pids": "pids: own process namespace, sees and signals only its own processes",
    }
    return ([f"isolation {text[layer]}" for layer in policy.layers]
            + [f"isolation MISSING {layer}: {why_missing(layer, policy.layers)}"
               for layer in missing_layers(policy.layers)])

