"""Checking a submission folder before nbgrader sees it, and staging it into submitted/.

nbgrader expects a well-formed notebook with the right name; anything else makes it skip the
student or fail the batch. Here every problem becomes a reason the student can read, and only the
expected notebook (plus the course's own helper files, never the student's copies) is staged.

The grader runs as root and a submission is whatever the student's repository held, links
included: every file is read through read_file, which opens regular files only, never through a
link, and never more than the size cap.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.utils import parse_utc

from . import notebooks as nbs
from . import sanitize
from .course import Course

TIMESTAMP = "timestamp.txt"
TIMESTAMP_BYTES = 4096   # a date is some 30 characters
KINDS = ((stat.S_ISREG, "file"), (stat.S_ISDIR, "folder"), (stat.S_ISLNK, "link"), (stat.S_ISFIFO, "FIFO"),
         (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "device"), (stat.S_ISBLK, "device"))


@dataclass
class Intake:
    ok: bool
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    notebooks: dict[str, nbformat.NotebookNode] = field(default_factory=dict)
    timestamp: str | None = None
    sha256: str | None = None


class Unreadable(Exception):
    """A handed-in file the grader will not read, and why, in words for the student."""


def kind(mode: int) -> str:
    return next((name for test, name in KINDS if test(mode)), "special file")


def open_folder(folder: Path) -> int:
    """A descriptor of the submission folder, opened without following a link at its own name (it is
    the student's; the student folder above it may be a link the grader made)."""
    parent = os.open(folder.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return os.open(folder.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    finally:
        os.close(parent)


def listing(folder_fd: int) -> dict[str, os.stat_result]:
    """Each name in the folder with what it is itself (a link is a link, not what it points to)."""
    return {name: os.stat(name, dir_fd=folder_fd, follow_symlinks=False) for name in sorted(os.listdir(folder_fd))}


def read_file(folder_fd: int, name: str, max_bytes: int) -> bytes:
    """The bytes of `name` in the open folder, if it is a regular file of at most `max_bytes`.

    Nothing else is opened: read as root, a link would hand a student the solutions (or
    /proc/self/mem, and a crash), a FIFO would hang the grader. O_NOFOLLOW and O_NONBLOCK keep a
    name swapped after the check from being followed or waited on, and the check is made again on
    what was opened.
    """
    try:
        found = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
        if not stat.S_ISREG(found.st_mode):
            raise Unreadable(f"{name} is a {kind(found.st_mode)}, not a file: hand in the notebook itself")
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder_fd)
        with open(fd, "rb") as fh:
            opened = os.fstat(fd)
            if (opened.st_dev, opened.st_ino) != (found.st_dev, found.st_ino):
                raise Unreadable(f"{name} changed while it was read: submit again")
            data = fh.read(max_bytes + 1) if opened.st_size <= max_bytes else b""
    except OSError as exc:
        raise Unreadable(f"{name} could not be read ({exc.strerror})") from exc
    if opened.st_size > max_bytes or len(data) > max_bytes:
        raise Unreadable(f"{name} is larger than {max_bytes // 1024**2} MB: clear its outputs "
                         "(Kernel > Restart & Clear Output) and submit again")
    return data


def _read_notebook(folder_fd: int, name: str, max_bytes: int) -> tuple[nbformat.NotebookNode | None, str]:
    try:
        text = read_file(folder_fd, name, max_bytes).decode("utf-8")
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    except Unreadable as exc:
        return None, str(exc)
    except Exception as exc:  # any unreadable file is the student's problem to hear about
        return None, f"{name} is not a readable notebook ({type(exc).__name__}: {str(exc)[:120]})"
    if nb.get("nbformat") != 4:
        return None, f"{name} is in nbformat {nb.get('nbformat')}; save it again with Jupyter (nbformat 4)"
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        return None, f"{name} is not a valid notebook: {exc.message[:160]}"
    return nb, ""


def fingerprint(folder: Path, max_bytes: int) -> str | None:
    """Names, kinds and bytes of what was handed in: equal fingerprints, equal records."""
    try:
        fd = open_folder(folder)
    except OSError:
        return None
    try:
        return _digest(fd, max_bytes)
    finally:
        os.close(fd)


def _digest(folder_fd: int, max_bytes: int) -> str:
    """Only what the grader reads counts: a folder, a link or a special file by name and kind, a file
    over the cap by its reason for being refused."""
    digest = hashlib.sha256()
    for name, found in listing(folder_fd).items():
        digest.update(os.fsencode(name) + b"\0" + kind(found.st_mode).encode() + b"\0")
        if stat.S_ISREG(found.st_mode):
            try:
                digest.update(hashlib.sha256(read_file(folder_fd, name, max_bytes)).digest())
            except Unreadable as exc:
                digest.update(str(exc).encode())
    return digest.hexdigest()


def check(course: Course, assignment: str, folder: Path, max_bytes: int) -> Intake:
    """Is this a gradable submission? Every 'no' comes with the reason the student will read."""
    try:
        fd = open_folder(folder)
    except FileNotFoundError:
        return Intake(False, f"no submission folder for {assignment}")
    except OSError:
        return Intake(False, f"{assignment} is a link or a file, not a folder: hand in the folder itself")
    try:
        found = _check_contents(course, assignment, fd, max_bytes)
        found.sha256 = _digest(fd, max_bytes)
    finally:
        os.close(fd)
    return found


def _check_contents(course: Course, assignment: str, folder_fd: int, max_bytes: int) -> Intake:
    expected, entries = course.notebook_names(assignment), listing(folder_fd)
    present = [name for name in entries if name.endswith(".ipynb")]
    missing = [name for name in expected if name not in present]
    if missing:
        others = [name for name in present if name not in expected]
        if others:
            return Intake(False, f"expected {', '.join(missing)} but found {', '.join(others)}: "
                                 "notebooks are graded by name, rename it and submit again")
        return Intake(False, f"no notebook {', '.join(missing)} in the submission")
    notes, notebooks = [], {}
    for name in expected:
        nb, problem = _read_notebook(folder_fd, name, max_bytes)
        if nb is None:
            return Intake(False, problem)
        notebooks[name], changes, problem = sanitize.repaired(nb, nbs.read(course.release_dir / assignment / name))
        if problem:
            return Intake(False, problem)
        notes += changes
    timestamp, problem = _timestamp(folder_fd, entries, max_bytes)
    notes += [problem] if problem else []
    return Intake(True, notes=notes + _ignored(entries, expected), timestamp=timestamp, notebooks=notebooks)


def _ignored(entries: dict[str, os.stat_result], expected: list[str]) -> list[str]:
    """What was handed in beside the notebooks: files and folders are ignored, the rest never opened."""
    others = {name: kind(found.st_mode) for name, found in entries.items() if name not in expected}
    extras = [name for name, what in others.items() if what in ("file", "folder") and name != TIMESTAMP]
    unopened = [f"{name} (a {what})" for name, what in others.items() if what not in ("file", "folder")]
    return ([f"ignored files that are not part of the assignment: {', '.join(extras)}"] if extras else []) + (
        [f"never opened, as links and special files are not read: {', '.join(unopened)}"] if unopened else [])


def _timestamp(folder_fd: int, entries: dict[str, os.stat_result], max_bytes: int) -> tuple[str | None, str]:
    """The submission's time as nbgrader reads it, or None; and a note when timestamp.txt is there but
    holds no date. Such a submission is graded as one without timestamp.txt: on time (README, "Late
    submissions"). nbgrader itself would stop on it with an error of its own."""
    if TIMESTAMP not in entries or not stat.S_ISREG(entries[TIMESTAMP].st_mode):
        return None, ""
    if entries[TIMESTAMP].st_size > TIMESTAMP_BYTES:
        return None, f"{TIMESTAMP} is not a date: it holds {entries[TIMESTAMP].st_size} bytes; graded as on time"
    try:
        text = read_file(folder_fd, TIMESTAMP, TIMESTAMP_BYTES).decode(errors="replace").strip()
    except Unreadable as exc:
        return None, f"{exc}; graded as on time"
    if not text:
        return None, ""
    try:
        parse_utc(text)
    except (ValueError, OverflowError, TypeError, LookupError) as exc:
        shown = text if len(text) <= 60 else text[:57] + "..."
        return None, f"{TIMESTAMP} is not a date: {shown!r}; graded as on time"
    return text, ""


def stage(course: Course, assignment: str, student: str, intake: Intake) -> None:
    """Copy the checked notebooks and the course's helper files into nbgrader's submitted/: nothing
    there is read from the submission folder again."""
    dest = course.dir_of("submitted") / student / assignment
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(course.release_dir / assignment, dest,
                    ignore=shutil.ignore_patterns("*.ipynb"))
    for name, nb in intake.notebooks.items():
        nbs.write(nb, dest / name)
    if intake.timestamp:
        (dest / TIMESTAMP).write_text(intake.timestamp)
