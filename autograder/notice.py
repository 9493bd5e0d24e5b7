"""The page a student reads when the notebook was not graded: why, where it stopped, what to do.

nbgrader writes no feedback for a notebook that was rejected or whose kernel died, and the grader
keeps no copy of a run that died, so the page works from the grading record: the cell that was
running when the kernel died or ran out of time, with its last output in the grader's run (guard.py
records it). A record without one (nbgrader's own autograde) falls back on the notebook the student
handed in: its first cell that ends Python (os._exit, sys.exit, exit(), ...) is named as the likely
place, with the output the student's own run saved for it.
"""
from __future__ import annotations

import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from nbformat import NotebookNode

from . import notebooks as nbs
from .course import Course
from .feedback_filters import points
from .grading import grading_course
from .parts import cell_labels
from .records import REJECTED, Record

TEMPLATES = Path(__file__).resolve().parent / "templates" / "eds_feedback"
ENDS_PYTHON = re.compile(r"(?<![\w.])(?:os\._exit|os\.abort|os\.kill|sys\.exit|exit|quit)\s*\(")


def stopping_cell(nb: NotebookNode) -> dict | None:
    """The first code cell that ends Python: its number, the part it is in, its source and the
    last output the student's own run saved for it (None if no cell ends Python)."""
    for number, (cell, (part, _)) in enumerate(zip(nb.cells, cell_labels(nb)), 1):
        if cell.cell_type == "code" and ENDS_PYTHON.search(cell.source):
            outputs = [nbs.output_text(o) for o in cell.get("outputs", []) if nbs.output_text(o).strip()]
            return {"number": number, "part": part, "source": cell.source, "output": outputs[-1] if outputs else "",
                    "seen": False}
    return None


def handed_in(course: Course, record: Record) -> NotebookNode | None:
    """The notebook the student handed in, as the grader received it (None if there is none)."""
    folder = grading_course(course).dir_of("submitted") / record.student / record.assignment
    found = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    try:
        return nbs.read(found[0]) if found else None
    except Exception:  # a corrupt notebook is what got it rejected: nothing to read in it
        return None


def notice_page(course: Course, record: Record) -> str:
    """What a student whose notebook could not be graded reads instead of nbgrader's feedback."""
    nb = None if record.status == REJECTED else handed_in(course, record)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["points"] = points
    return env.get_template("notice.html.j2").render(
        record=record, rejected=record.status == REJECTED,
        stopped=record.stopped or (stopping_cell(nb) if nb else None),
        cells=len(nb.cells) if nb else 0)
