"""The kernel manager that starts every student kernel inside the sandbox's layers."""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Unicode

from . import view
from .layers import KERNEL_HOME_PREFIX, available_layers
from .policy import GradingLimits
from .processes import sandbox_uid
from .workcopy import HIDDEN_ENV, give

KERNEL_ROOT = Path("/run/eds-kernels")
KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TZ", "EDS_DATA_DIR", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "PYTHONWARNINGS",
                    "MPLBACKEND", "EDS_SANDBOX_UID", "NBGRADER_EXECUTION")

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
