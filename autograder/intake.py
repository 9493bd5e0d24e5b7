"""Checking a submission folder before nbgrader sees it, and staging it into submitted/.

nbgrader expects a well-formed notebook with the right name; anything else makes it skip the
student or fail the batch. Here every problem becomes a reason the student can read, and only the
expected notebook (plus the course's own helper files, never the student's copies) is staged.
"""
from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import notebooks as nbs
from .course import Course
from .normalise import normalise


@dataclass
class Intake:
    ok: bool
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    notebooks: dict[str, nbformat.NotebookNode] = field(default_factory=dict)
    timestamp: str | None = None
    sha256: str | None = None


def _read_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, str]:
    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=nbformat.NO_CONVERT)
    except Exception as exc:  # any unreadable file is the student's problem to hear about
        return None, f"{path.name} is not a readable notebook ({type(exc).__name__}: {str(exc)[:120]})"
    if nb.get("nbformat") != 4:
        return None, f"{path.name} is in nbformat {nb.get('nbformat')}; save it again with Jupyter (nbformat 4)"
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        return None, f"{path.name} is not a valid notebook: {exc.message[:160]}"
    return nb, ""


def fingerprint(folder: Path) -> str | None:
    """Names and bytes of every file handed in: equal fingerprints, equal grades."""
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def check(course: Course, assignment: str, folder: Path, max_bytes: int) -> Intake:
    """Is this a gradable submission? Every 'no' comes with the reason the student will read."""
    expected = course.notebook_names(assignment)
    if not folder.is_dir():
        return Intake(False, f"no submission folder for {assignment}")
    too_big = [p.name for p in folder.glob("*.ipynb") if p.stat().st_size > max_bytes]
    if too_big:
        return Intake(False, f"{too_big[0]} is larger than {max_bytes // 1024**2} MB: clear its outputs "
                             "(Kernel > Restart & Clear Output) and submit again")
    found = _check_contents(course, assignment, folder, expected)
    found.sha256 = fingerprint(folder)
    return found


def _check_contents(course: Course, assignment: str, folder: Path, expected: list[str]) -> Intake:
    present = sorted(p.name for p in folder.iterdir() if p.suffix == ".ipynb")
    missing = [name for name in expected if name not in present]
    if missing:
        others = [name for name in present if name not in expected]
        if others:
            return Intake(False, f"expected {', '.join(missing)} but found {', '.join(others)}: "
                                 "notebooks are graded by name, rename it and submit again")
        return Intake(False, f"no notebook {', '.join(missing)} in the submission")
    notes, notebooks = [], {}
    for name in expected:
        nb, problem = _read_notebook(folder / name)
        if nb is None:
            return Intake(False, problem)
        notebooks[name], changes = normalise(nb, nbs.read(course.release_dir / assignment / name))
        notes += changes
    extras = sorted(p.name for p in folder.iterdir() if p.name not in expected and p.name != "timestamp.txt")
    if extras:
        notes.append(f"ignored files that are not part of the assignment: {', '.join(extras)}")
    stamp = folder / "timestamp.txt"
    timestamp = stamp.read_text().strip() if stamp.is_file() else None
    return Intake(True, notes=notes, timestamp=timestamp, notebooks=notebooks)


def stage(course: Course, assignment: str, folder: Path, student: str, intake: Intake) -> None:
    """Copy the expected notebooks and the course's helper files into nbgrader's submitted/."""
    dest = course.dir_of("submitted") / student / assignment
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(course.release_dir / assignment, dest,
                    ignore=shutil.ignore_patterns("*.ipynb"))
    for name, nb in intake.notebooks.items():
        nbs.write(nb, dest / name)
    if intake.timestamp:
        (dest / "timestamp.txt").write_text(intake.timestamp)
