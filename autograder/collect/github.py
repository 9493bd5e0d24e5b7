"""A folder of GitHub Classroom repositories, one clone per student (`<assignment>-<username>`).

Each repository is read at its last commit at or before the deadline (committer date, as `git
rev-list --before` reads it), or at HEAD without a deadline; with no commit before the deadline,
HEAD is taken and is late, as nbgrader's own collect does. Nothing is checked out: blobs are read
with `git cat-file` from the object store, so a link in the repository is never followed (it is
reported), and a notebook larger than the cap is never read. Git runs without the machine's or
the user's configuration, without replace objects, hooks or an fsmonitor.

The commit time is the student's clock: `git commit --date` can backdate it. Cloning at the
deadline (GitHub Classroom's download, or `git clone` then) is what makes the time trustworthy.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Iterator

from .entries import Entry, Identity, Skip

LINK, SUBMODULE = "120000", "160000"
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "LC_ALL": "C",
       "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_NO_REPLACE_OBJECTS": "1",
       "GIT_TERMINAL_PROMPT": "0"}


def git(repo: Path, *args: str) -> bytes:
    """Run a read-only git command on the repository's object store."""
    cmd = ["git", "-c", "safe.directory=*", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
           f"--git-dir={repo / '.git'}", *args]
    return subprocess.run(cmd, env=ENV, capture_output=True, check=True, timeout=120).stdout


def owner(folder: str, users: list[str]) -> str | None:
    """The roster's GitHub username that the repository's name ends with (the longest, as names
    like `ada` and `lovelace-ada` may both be on a roster)."""
    name = folder.casefold()
    matches = [u for u in users if name == u or name.endswith("-" + u)]
    return max(matches, key=len, default=None)


def read(source: Path, assignment: str, stack: contextlib.ExitStack, max_bytes: int,
         deadline: datetime | None = None, users: list[str] = ()) -> Iterator[Entry | Skip]:
    if not source.is_dir():
        from ..course import CourseError
        raise CourseError(f"{source} is not a folder of repositories")
    for repo in sorted(source.iterdir()):
        if repo.is_symlink() or not repo.is_dir():
            yield Skip(repo.name, "not a repository folder (a link or a file): not followed")
            continue
        user = owner(repo.name, users)
        identity = Identity("github", user or repo.name, repo.name)
        git_dir = repo / ".git"
        if git_dir.is_symlink() or not git_dir.is_dir():
            yield Skip(repo.name, "not a git clone (no .git folder of its own)", identity)
            continue
        try:
            yield from _commit_files(repo, identity, deadline, max_bytes)
        except subprocess.CalledProcessError as exc:
            yield Skip(repo.name, f"git could not read it: {exc.stderr.decode(errors='replace').strip()[:160]}", identity)
        except subprocess.TimeoutExpired:
            yield Skip(repo.name, "git took too long to read it", identity)


def _commit_files(repo: Path, identity: Identity, deadline: datetime | None, max_bytes: int) -> Iterator[Entry | Skip]:
    try:
        head = git(repo, "rev-parse", "--verify", "-q", "HEAD^{commit}").decode().strip()
    except subprocess.CalledProcessError:
        yield Skip(repo.name, "no commit: nothing was handed in", identity)
        return
    commit, notes = head, []
    if deadline:
        before = git(repo, "rev-list", "-1", f"--before={int(deadline.timestamp())}", "HEAD").decode().strip()
        if before:
            commit = before
        else:
            notes.append("no commit at or before the deadline: the latest one was taken")
    when = datetime.fromtimestamp(int(git(repo, "show", "-s", "--format=%ct", commit).decode()), timezone.utc)
    notes.append(f"commit {commit[:12]}")
    for line in git(repo, "ls-tree", "-r", "-l", "-z", commit).split(b"\0"):
        if not line:
            continue
        meta, _, raw = line.partition(b"\t")
        mode, kind, sha, size = meta.decode().split()
        path = raw.decode(errors="replace")
        if not path.endswith(".ipynb"):
            continue   # a repository holds READMEs, data and workflows: only notebooks are candidates
        where = f"{repo.name}/{path}"
        if mode == LINK:
            yield Skip(where, "a link in the repository: never followed", identity, time=when)
        elif mode == SUBMODULE or kind != "blob":
            yield Skip(where, "a submodule, not a file", identity, time=when)
        elif ".ipynb_checkpoints" in PurePosixPath(path).parts:
            yield Skip(where, "Jupyter's checkpoint copy, not the notebook", identity, time=when)
        elif int(size) > max_bytes:
            yield Skip(where, f"not read: larger than {max_bytes // 1024**2} MB", identity, time=when)
        else:
            yield Entry(identity, PurePosixPath(path).name, where, when,
                        lambda repo=repo, sha=sha: git(repo, "cat-file", "blob", sha), list(notes))
