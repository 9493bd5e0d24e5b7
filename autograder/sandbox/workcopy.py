"""A kernel's working copy (handed to its uid, then sealed) and the course's secrets (locked)."""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from .processes import reap

if TYPE_CHECKING:
    from .policy import Policy, SecretPaths


def give(path: Path, uid: int) -> None:
    """Hand a working copy to a uid, readable by no other (other students' kernels included)."""
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, uid, follow_symlinks=False)
    os.chown(path, uid, uid)
    os.chmod(path, 0o700)


def contents(folder: Path) -> set[str]:
    """Every name under `folder`, relative to it: what a working copy holds before its kernel runs."""
    return {os.path.relpath(os.path.join(root, name), folder)
            for root, dirs, files in os.walk(folder) for name in dirs + files}


def _open_up(folder: Path) -> None:
    """Every folder of a working copy listable and writable by the grader, so that seal can clear
    it: a kernel with the grader's uid (not root) can leave folders of mode 0 or read-only."""
    os.chmod(folder, stat.S_IRWXU)
    for _, dirnames, _, dirfd in os.fwalk(folder):
        for name in dirnames:
            if stat.S_ISDIR(os.stat(name, dir_fd=dirfd, follow_symlinks=False).st_mode):
                os.chmod(name, stat.S_IRWXU, dir_fd=dirfd)


def seal(folder: Path, kept: set[str], policy: Policy) -> None:
    """A kernel's working copy once the kernel is gone: back to root, and holding only what was
    there before the kernel (`kept`), as plain files and folders. Links, special files and hard links
    would take the grader's next write elsewhere; whatever else the kernel wrote would go on to the
    student's feedback folder (nbgrader's feedback copies every file beside the notebook: a 256 MB
    junk file, twice). What the kernel left running is killed first, and every step goes through
    folder descriptors (os.fwalk), so that no folder swapped for a link mid-way leads out."""
    reap(policy.uid, policy.layers)
    if "user" in policy.layers:
        give(folder, 0)
    _open_up(folder)
    for dirpath, dirnames, filenames, dirfd in os.fwalk(folder, topdown=False):
        for name in dirnames + filenames:
            info = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            plain = stat.S_ISDIR(info.st_mode) or (stat.S_ISREG(info.st_mode) and info.st_nlink == 1)
            if plain and os.path.relpath(os.path.join(dirpath, name), folder) in kept:
                continue
            if stat.S_ISDIR(info.st_mode):
                os.rmdir(name, dir_fd=dirfd)
            else:
                os.unlink(name, dir_fd=dirfd)


def protect(secrets: SecretPaths, layers: tuple[str, ...]) -> None:
    """Make the course's secrets unreadable to the sandbox uids, should a kernel ever reach them
    (its view holds none of them): root-only folders and files, where kernels have uids of their own
    (the user layer among `layers`). Missing folders are made first, so that what grading writes
    into them later is covered too; traversable ones may be crossed, not listed."""
    if "user" not in layers:
        return
    files = list(secrets.files)
    for path in secrets.traversable + secrets.folders:
        if path.exists() and not path.is_dir():   # a worktree's .git is a file naming the history
            files.append(path)
            continue
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o711 if path in secrets.traversable else 0o700)
    for path in files:
        if path.exists():
            os.chmod(path, 0o600)


