"""System calls no kernel needs and none may make: the kernel keyrings' (keyctl, add_key, request_key).

Key serial numbers are global, and a key's permissions are checked against the uid alone. Without
root every kernel has the grader's uid: from inside all its namespaces it could still list the
grader's own user keyrings (/proc/keys), link them into its session keyring, read what an earlier
kernel of any run left there, and leave keys for the next one (issue 22's red team did all four).
Docker's default profile refuses the same three calls. As root each kernel's uid is its own, and
this filter is one more wall.

The filter is built by libseccomp (the system's libseccomp.so.2, through ctypes) in the kernel's own
process, just before ipykernel starts: `launcher` runs `SOURCE` in place of `-m ipykernel_launcher`.
That source runs in the kernel and imports nothing of the course.
"""
from __future__ import annotations

import ctypes.util
import functools
import subprocess
import sys

REFUSED = ("keyctl", "add_key", "request_key")
LIBRARY = ctypes.util.find_library("seccomp")
KERNEL_MODULE = ("-m", "ipykernel_launcher")

FILTER = f"""
import ctypes, errno, os, runpy, sys
lib = ctypes.CDLL({LIBRARY!r}, use_errno=True)
lib.seccomp_init.restype = ctypes.c_void_p
lib.seccomp_init.argtypes = [ctypes.c_uint32]
lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
lib.seccomp_load.argtypes = [ctypes.c_void_p]
ctx = lib.seccomp_init(0x7fff0000)  # SCMP_ACT_ALLOW
refuse = 0x00050000 | errno.EPERM  # SCMP_ACT_ERRNO(EPERM)
if not ctx or any(lib.seccomp_rule_add_array(ctx, refuse, lib.seccomp_syscall_resolve_name(name.encode()), 0, None)
                  for name in {REFUSED!r}) or lib.seccomp_load(ctx):
    sys.exit("the kernel's system call filter could not be loaded")
"""
# In place of `python -m ipykernel_launcher ARGS`: the same module run the same way, cwd first on
# sys.path as -m puts it, once the filter is in force.
SOURCE = FILTER + """
sys.argv[0] = "ipykernel_launcher"
sys.path[0] = os.getcwd()
runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
"""
PROBE = FILTER + """
libc = ctypes.CDLL(None, use_errno=True)
KEYCTL = {"x86_64": 250, "aarch64": 219}[os.uname().machine]
refused = libc.syscall(KEYCTL, 0, -4, 1) == -1  # KEYCTL_GET_KEYRING_ID of the user keyring
sys.exit(0 if refused and ctypes.get_errno() == errno.EPERM else 1)
"""


@functools.lru_cache(maxsize=1)
def works() -> bool:
    """Whether the filter loads here and refuses keyctl (probed once per process)."""
    if LIBRARY is None:
        return False
    try:
        return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def launcher(cmd: list[str]) -> list[str]:
    """The kernel command with the filter loaded first; another kernel than ipykernel is left as it is."""
    if tuple(cmd[1:3]) != KERNEL_MODULE:
        return cmd
    return [cmd[0], "-c", SOURCE, *cmd[3:]]
