"""A student's self-check: run a notebook's visible tests and list every part as done, failing or not
started, saying plainly that the hidden tests grade later.

A student's notebook has no hidden tests; nbgrader's ClearHiddenTests is applied anyway, so that a
check of an instructor's notebook runs what a student would run and nothing more.
"""
from __future__ import annotations

import os
from pathlib import Path

from nbclient import NotebookClient
from nbformat import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests

from . import notebooks as nbs
from .course import CourseError
from .feedback_filters import test_failure

CELL_TIMEOUT = 120
SELF_CHECK_ENV = "EDS_SELF_CHECK"   # set while checking, so that a self-check cell does not recurse
STUB_ERROR = "NotImplementedError"
MANUAL_STUB = "YOUR ANSWER HERE"
NOT_YOUR_GRADE = ("This is not your grade: hidden tests run when you submit and check your answers on "
                  "inputs you have not seen. A part can pass here and still lose points there.")


def run_visible(path: Path) -> NotebookNode:
    """The notebook executed top to bottom without hidden tests, errors kept in the outputs."""
    try:
        nb = nbs.read(path)
    except Exception as exc:  # whatever the file is, the student hears it in one line
        raise CourseError(f"cannot read {path}: {type(exc).__name__}: {str(exc)[:160]}") from exc
    nb, _ = ClearHiddenTests().preprocess(nb, {})
    os.environ[SELF_CHECK_ENV] = "1"
    NotebookClient(nb, timeout=CELL_TIMEOUT, allow_errors=True,
                   resources={"metadata": {"path": str(path.parent.resolve())}}).execute()
    return nb


def raised_stub(cell: NotebookNode) -> bool:
    return any(o.get("ename") == STUB_ERROR for o in cell.get("outputs", []))


def checklist(nb: NotebookNode) -> list[tuple[str, str, str]]:
    """(state, part, detail) for every graded cell, in notebook order."""
    items, answer_is_stub = [], False
    for cell in nb.cells:
        points = nbs.meta(cell).get("points", 0)
        if nbs.is_answer(cell):
            answer_is_stub = raised_stub(cell) or "raise NotImplementedError" in cell.source
        elif nbs.is_test(cell):
            failure = test_failure(cell)
            if answer_is_stub or raised_stub(cell):
                items.append(("not started", nbs.grade_id(cell), f"{points:g} points"))
            else:
                items.append(("failing" if failure else "done", nbs.grade_id(cell),
                              f"{points:g} points" + (f": {failure}" if failure else "")))
        elif nbs.is_manual(cell):
            blank = not cell.source.strip() or MANUAL_STUB in cell.source
            items.append(("not started" if blank else "written", nbs.grade_id(cell),
                          f"{points:g} points, graded by a TA"))
    return items


def render(name: str, items: list[tuple[str, str, str]]) -> str:
    tests = [i for i in items if not i[2].endswith("graded by a TA")]
    passed = sum(i[0] == "done" for i in tests)
    lines = [f"Self-check of {name} (visible tests only)"]
    lines += [f"  [{state}]{' ' * (12 - len(state))}{part} ({detail})" for state, part, detail in items]
    lines += [f"Visible tests passing: {passed} of {len(tests)}.", NOT_YOUR_GRADE]
    return "\n".join(lines)


def main(path: Path) -> int:
    """Print the checklist of one notebook; 0 whatever it says (it is a check, not a grade)."""
    print(render(path.name, checklist(run_visible(path))))
    return 0
