"""Where the course's data is, from wherever a notebook runs.

A notebook used to read `../../data`, which holds only while its kernel runs in its own folder:
opened from another working folder, or moved out of the course, every data cell failed. Every
notebook now asks `data_dir()`, which looks, in this order, at

1. the environment variable EDS_DATA_DIR (the grader sets it to the data a submission is graded
   on; set it yourself to keep the data elsewhere);
2. a `variant.txt` handed out beside the notebook (assignments whose data differs per student):
   the course's `python -m autograder data` makes that variant's data on first use;
3. the notebook's folder and its parents, then the kernel's working folder and its parents;
4. the course this environment belongs to (the course's `.venv` lies in the course root).

A data folder is recognised by its datasets' checksum lists (`<dataset>/SHA256SUMS`), so a stray
`data/` is never taken.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ENV = "EDS_DATA_DIR"
HANDOUT = "variant.txt"
MARK = "SHA256SUMS"


def data_dir(assignment: str | None = None) -> Path:
    """The data folder this notebook should read (see the module's docstring for the order).

    `assignment` names the notebook's assignment, needed only where students get their own
    variant of the data (a `variant.txt` beside the notebook).
    """
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    places = _notebook_folders()
    course = next((root for root in _candidate_roots(places) if _holds_datasets(root / "data")), None)
    if course is None:
        raise FileNotFoundError(
            "the course's data folder was not found: looked in the folders of this notebook and their "
            f"parents, and beside this Python ({sys.prefix}). Set {ENV} to the course's data/ folder.")
    handout = next((folder / HANDOUT for folder in places if (folder / HANDOUT).is_file()), None)
    if assignment and handout:
        return _variant_data(course, assignment, handout)
    return course / "data"


def _notebook_folders() -> list[Path]:
    """The notebook's own folder (JupyterLab names it in JPY_SESSION_NAME), then the working folder."""
    folders = []
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session and Path(session).is_absolute():
        folders.append(Path(session).parent)
    folders.append(Path.cwd())
    return folders


def _holds_datasets(folder: Path) -> bool:
    return folder.is_dir() and any((dataset / MARK).is_file() for dataset in folder.iterdir() if dataset.is_dir())


def _candidate_roots(places: list[Path]) -> list[Path]:
    roots = [p for place in places for p in (place, *place.parents)]
    return roots + [Path(sys.prefix).parent]


def _variant_data(course: Path, assignment: str, handout: Path) -> Path:
    """The variant's data, made by the course's own tool: the grader's code decides what it holds."""
    done = subprocess.run([sys.executable, "-m", "autograder", "data", assignment, str(handout.resolve())],
                          cwd=course, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(course)})
    if done.returncode:
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"{handout} could not be used: {why}")
    return Path(done.stdout.strip())
