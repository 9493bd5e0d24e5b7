"""The kernel manager that starts every student kernel inside the sandbox's layers."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Instance, Unicode

from . import fontcache, view
from .environment import matplotlib_dir
from .layers import KERNEL_HOME_PREFIX
from .policy import Policy
from .workcopy import give

KERNEL_ROOT = Path("/run/eds-kernels")


def wrap(cmd: list[str], policy: Policy, kernel_view: view.View) -> list[str]:
    """The kernel command inside every layer of `policy`: its limits, then its view (which brings the
    network namespace along) or the network namespace alone, then its uid."""
    layers, uid, limits = policy.layers, policy.uid, policy.limits
    bounds = [] if "limits" not in layers else [
        "prlimit", f"--as={limits.memory_bytes}", f"--nproc={limits.processes}", f"--fsize={limits.file_bytes}",
        f"--cpu={limits.cpu_seconds}", f"--nofile={limits.open_files}", "--"]
    if "user" in layers:
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--"] + cmd
    if "view" in layers:
        return kernel_view.command(cmd, "pids" in layers, bounds, as_root=os.geteuid() == 0)
    return bounds + (["unshare", "--net", "--ipc", "--"] if "network" in layers else []) + cmd


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel inside `wrap` and over IPC, as its policy says."""

    transport = Unicode("ipc")
    policy = Instance(Policy, allow_none=True, help="set by GuardedExecute; no kernel starts without it")

    async def _async_pre_start_kernel(self, **kw):
        policy = self.policy
        if policy is None:
            raise RuntimeError("a sandbox kernel was started without its policy")
        uid = policy.uid
        if "user" in policy.layers:
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
        if "user" in policy.layers:
            os.chown(self.connection_file, uid, uid)
            if kw.get("cwd"):
                give(Path(kw["cwd"]), uid)
        kw["env"] = policy.environment.for_kernel(kw.get("env", os.environ), home)
        fontcache.seed(matplotlib_dir(home), uid if "user" in policy.layers else None)
        kernel_view = view.View(readonly=tuple(view.kernel_files(policy.data_dir)),
                                writable=tuple(str(p) for p in (kw.get("cwd"), home) if p), home=str(home),
                                workdir=kw.get("cwd"))
        return wrap(kernel_cmd, policy, kernel_view), kw

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        home = Path(self.connection_file).parent
        if home.parent == KERNEL_ROOT or home.name.startswith(KERNEL_HOME_PREFIX):
            shutil.rmtree(home, ignore_errors=True)
