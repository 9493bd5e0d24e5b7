"""The kernel manager that starts every student kernel inside the sandbox's layers."""
from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Instance, Unicode

from . import fontcache, keyrings, processes, syscalls, view
from .environment import matplotlib_dir
from .policy import Policy
from .processes import KERNEL_ROOT
from .workcopy import give

# The folder of a kernel's connection file and sockets (the grader reaches it from outside the
# view); as root, a tmpfs of this size. The kernel's home is a folder in it, a tmpfs of its own in
# the view (GradingLimits.home_bytes).
RUNTIME_BYTES = 16 * 1024**2
HOME = "home"


def _mount_tmpfs(folder: Path, size: int) -> None:
    """A size-capped tmpfs on `folder` (as root, in the grader's own mount namespace), so that what
    the kernel writes there stops at `size`; left on disk where it cannot be mounted."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", view.tmpfs_options(size, "700"), "tmpfs", str(folder)],
                   capture_output=True, check=False)


def wrap(cmd: list[str], policy: Policy, kernel_view: view.View) -> list[str]:
    """The kernel command inside every layer of `policy`: its limits, then its view (which brings the
    network namespace along) or the network namespace alone, then its uid, then its system call filter."""
    layers, uid, limits = policy.layers, policy.uid, policy.limits
    bounds = [] if "limits" not in layers else [
        "prlimit", f"--as={limits.memory_bytes}", f"--nproc={limits.processes}", f"--fsize={limits.file_bytes}",
        f"--cpu={limits.cpu_seconds}", f"--nofile={limits.open_files}", "--"]
    if "syscalls" in layers:
        cmd = syscalls.launcher(cmd)
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
            runtime = KERNEL_ROOT / uuid.uuid4().hex[:12]
            runtime.mkdir(mode=0o700)
            _mount_tmpfs(runtime, RUNTIME_BYTES)
            os.chown(runtime, uid, uid)
        else:  # not root: in a private folder of the grader's, named absolutely for both ends
            runtime = processes.private_folder(uid) / "kernel"
            runtime.mkdir(mode=0o700)
        home = runtime / HOME
        home.mkdir(mode=0o700)
        if "user" in policy.layers:
            os.chown(home, uid, uid)
        # Absolute socket and connection paths: the kernel's working folder is not the grader's.
        self.connection_file = str(runtime / "kernel.json")
        self.ip = str(runtime / "ipc")
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        # The kernel's own stdout and stderr (IPython's start-up chatter, and whatever student code
        # writes to the file descriptors directly) are discarded: never the grader's output, and never
        # a file that can fill up, since ipykernel's thread that echoes captured output dies on a
        # failed write and the kernel then blocks on its next one.
        kw["stderr"] = kw["stdout"] = subprocess.DEVNULL
        if "user" in policy.layers:
            os.chown(self.connection_file, uid, uid)
            if kw.get("cwd"):
                give(Path(kw["cwd"]), uid)
        kw["env"] = policy.environment.for_kernel(kw.get("env", os.environ), home)
        kw["preexec_fn"] = keyrings.new_session   # not the grader's session keyring
        fontcache.seed(matplotlib_dir(home), uid if "user" in policy.layers else None)
        limits = policy.limits
        kernel_view = view.View(readonly=tuple(view.kernel_files(policy.data_dir)), writable=(str(runtime),),
                                home=str(runtime), workdir=kw.get("cwd"), tmp_bytes=limits.tmp_bytes,
                                capped=((str(home), limits.home_bytes),) + (
                                    ((kw["cwd"], limits.workcopy_bytes),) if kw.get("cwd") else ()))
        return wrap(kernel_cmd, policy, kernel_view), kw

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        runtime = Path(self.connection_file).parent
        if runtime.parent == KERNEL_ROOT:
            processes.discard(runtime)
        elif runtime.parent.name.startswith(processes.PRIVATE_PREFIX):
            processes.discard(runtime.parent)
