"""The kernel manager that starts every student kernel inside the sandbox's layers."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Unicode

from . import view
from .layers import KERNEL_HOME_PREFIX, available_layers
from .policy import GradingLimits
from .processes import sandbox_uid
from .workcopy import give

KERNEL_ROOT = Path("/run/eds-kernels")

KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TZ", "EDS_DATA_DIR", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "PYTHONWARNINGS",
                    "MPLBACKEND", "EDS_SANDBOX_UID", "NBGRADER_EXECUTION")


def wrap(cmd: list[str], layers: tuple[str, ...], uid: int, limits: GradingLimits, kernel_view: view.View) -> list[str]:
    """The kernel command inside every available layer: its limits, then its view (which brings the
    network namespace along) or the network namespace alone, then its uid."""
    bounds = [] if "limits" not in layers else [
        "prlimit", f"--as={limits.memory_bytes}", f"--nproc={limits.processes}", f"--fsize={limits.file_bytes}",
        f"--cpu={limits.cpu_seconds}", f"--nofile={limits.open_files}", "--"]
    if "user" in layers:
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--"] + cmd
    if "view" in layers:
        return kernel_view.command(cmd, "pids" in layers, bounds, as_root=os.geteuid() == 0)
    return bounds + (["unshare", "--net", "--ipc", "--"] if "network" in layers else []) + cmd


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
        data_dir = kw["env"].get("EDS_DATA_DIR")
        kernel_view = view.View(readonly=tuple(view.kernel_files(Path(data_dir) if data_dir else None)),
                                writable=tuple(str(p) for p in (kw.get("cwd"), home) if p), home=str(home),
                                workdir=kw.get("cwd"))
        return wrap(kernel_cmd, layers, uid, GradingLimits(config=self.config), kernel_view), kw

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        home = Path(self.connection_file).parent
        if home.parent == KERNEL_ROOT or home.name.startswith(KERNEL_HOME_PREFIX):
            shutil.rmtree(home, ignore_errors=True)
