"""The kernel's keyrings (keyctl): a session keyring of its own, and nothing of its uid's left after it.

A process inherits its parent's session keyring and possesses it, whatever its uid: a kernel started
by the grader could put keys into the grader's session keyring, where every later kernel of the run
reads them. And a uid's own keyrings (`@u`, `@us`, its persistent one) are made on first use and kept
by the kernel for as long as the machine runs, with whatever keys were added to them. So each kernel
joins a new, anonymous session keyring as it starts (it goes when the kernel's last process does), and
once a submission is done its uid's keyrings are cleared and invalidated (processes.reap).
"""
from __future__ import annotations

import ctypes
import os

SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine)
JOIN_SESSION_KEYRING, GET_KEYRING_ID, CLEAR, INVALIDATE, GET_PERSISTENT = 1, 0, 7, 21, 22
USER_KEYRING, USER_SESSION_KEYRING, PROCESS_KEYRING = -4, -5, -2

_libc = ctypes.CDLL(None, use_errno=True)


def _keyctl(*args: int) -> int:
    return _libc.syscall(SYS_KEYCTL, *(ctypes.c_long(arg) for arg in args))


def new_session() -> None:
    """Join a new anonymous session keyring (run in the kernel's process before it starts: a
    preexec_fn). Nothing where the machine has no keyctl we know."""
    if SYS_KEYCTL is not None:
        _keyctl(JOIN_SESSION_KEYRING, 0)


def drop(uid: int) -> None:
    """Clear and invalidate `uid`'s keyrings (user, user session, persistent), so that the kernel
    frees them: done as `uid` (no other may), in a child process that does nothing else."""
    if SYS_KEYCTL is None:
        return
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            # Both ids first: looking one up makes the other again.
            rings = [_keyctl(GET_KEYRING_ID, USER_KEYRING, 1), _keyctl(GET_KEYRING_ID, USER_SESSION_KEYRING, 1),
                     _keyctl(GET_PERSISTENT, -1, PROCESS_KEYRING)]
            for ring in rings:
                if ring > 0:
                    _keyctl(CLEAR, ring)
                    _keyctl(INVALIDATE, ring)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def holders() -> dict[int, int]:
    """uid -> number of keys it owns, from /proc/key-users (every uid that holds keys)."""
    try:
        lines = open("/proc/key-users").read().splitlines()
    except OSError:
        return {}
    return {int(uid): int(rest.split()[0]) for uid, rest in (line.split(":", 1) for line in lines if ":" in line)}
