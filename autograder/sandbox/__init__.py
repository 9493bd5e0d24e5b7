"""The student's kernel, run with less than the grader's rights.

nbgrader starts the kernel as the grader, with the grader's files, network and memory. Here the
kernel command is wrapped, one layer at a time, in what this machine allows:

- limits:     prlimit caps memory, processes (no fork bomb), file size and CPU time;
- network:    unshare --net gives the kernel a network namespace with no interface but loopback;
- tmp:        in a mount namespace, /tmp, /var/tmp and /dev/shm are private, empty and small, and
              the course's secrets and the submissions are masked (view.py);
- user:       setpriv drops to an unprivileged uid that owns only its working copy, so the
              course's sources, the gradebook and other students' work (kept 0700) are unreadable.

A grader that is not root (the grading image) gets the same protection from unprivileged user
namespaces instead (view.py):

- view:       the kernel's own mount namespace, where the course's sources, the working folder
              (gradebook, other students' work) and the submissions are empty and read-only;
- pids:       its own process namespace and /proc: it sees and signals only its own processes,
              and what it leaves running dies with it.

Modules: policy (the limits), layers (what this machine allows, and the log lines), view (the
kernel's mount namespace), processes (uids, reaping), workcopy (working copies, locked secrets),
kernel (the kernel manager that puts it all around the kernel).

The kernel talks over Unix sockets (IPC transport): TCP cannot cross the network namespace. Each
layer that is missing (no namespaces in an unprivileged container) is left out and said in the log.
"""
from __future__ import annotations
