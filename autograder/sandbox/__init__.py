"""The student's kernel, run with less than the grader's rights.

nbgrader starts the kernel as the grader, with the grader's files, network and memory. Here the
kernel command is wrapped, one layer at a time, in what this machine allows:

- limits:     prlimit caps memory, processes (no fork bomb), file size and CPU time;
- network:    unshare --net gives the kernel a network namespace with no interface but loopback;
- view:       in its own mount namespace the kernel gets a root of its own holding only its Python,
              the system's /usr, a few files of /etc, the course's data/ (read-only) and its working
              copy and home (writable): nothing else of the machine is there (view.py);
- tmp:        in that view, private /tmp, /var/tmp and /dev/shm;
- pids:       its own process namespace and /proc: it sees and signals only its own processes,
              and what it leaves running dies with it;
- user:       as root, setpriv drops to a uid of the submission's own, which owns only its working
              copy, and whatever still runs under it afterwards is killed (processes.py).

A grader that is not root (the grading image) builds the same view inside unprivileged user
namespaces; only the user layer is then missing.

Modules: policy (the one value that says it all: limits, secret paths, environment, layers, uid;
built once from the course's configuration and passed on), environment (what a kernel keeps of the
grader's environment and what it is given), layers (what this machine allows, and the log lines),
view (the kernel's mount namespace), processes (uids, reaping), workcopy (working copies, locked
secrets), kernel (the kernel manager that puts it all around the kernel).

The kernel talks over Unix sockets (IPC transport): TCP cannot cross the network namespace. Each
layer that is missing (no namespaces in an unprivileged container) is left out and said in the log.
"""
from __future__ import annotations
