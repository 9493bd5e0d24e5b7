"""Which isolation layers this machine can set, and the lines the grading log gives them."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import view
from .policy import GradingLimits

KERNEL_HOME_PREFIX = "eds-kernel-"


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
    return hidden_by_private_tmp([sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parents[2])])


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
    package = Path(__file__).parents[1]
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

