"""A student's self-check: run a notebook's visible tests and list every part (visible test passes,
failing, not started), saying plainly that the hidden tests grade later.

A student's notebook has no hidden tests; nbgrader's ClearHiddenTests is applied anyway, so that a
check of an instructor's notebook runs what a student would run and nothing more.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from nbclient import NotebookClient
from nbformat import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests

from . import notebooks as nbs
from .course import ASSIGNMENT_NAME, CourseError
from .feedback_filters import test_failure

CELL_TIMEOUT = 120
SELF_CHECK_ENV = "EDS_SELF_CHECK"   # set while checking, so that a self-check cell does not recurse
STUB_ERROR = "NotImplementedError"
MANUAL_STUB = "YOUR ANSWER HERE"
PASSES, FAILS = "visible test passes", "visible test fails"
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
                   resources={"metadata": {"path": str(path.parent.resolve())}}).execute(
        stderr=subprocess.DEVNULL)  # the kernel's start-up chatter is not the student's business
    return nb


def answer_error(cell: NotebookNode) -> str:
    """The error an answer cell itself raised ('' if none, or only the stub's)."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error" and output.get("ename") != STUB_ERROR:
            return f"your answer cell raised {output.get('ename')}: {output.get('evalue') or '(no message)'}"
    return ""


def raised_stub(cell: NotebookNode) -> bool:
    return any(o.get("ename") == STUB_ERROR for o in cell.get("outputs", []))


def checklist(nb: NotebookNode) -> list[tuple[str, str, str]]:
    """(state, part, detail) for every graded cell, in notebook order."""
    items, answer_is_stub, answer_failed = [], False, ""
    for cell in nb.cells:
        points = nbs.meta(cell).get("points", 0)
        if nbs.is_answer(cell):
            answer_is_stub = raised_stub(cell) or "raise NotImplementedError" in cell.source
            answer_failed = answer_error(cell)
        elif nbs.is_test(cell):
            failure = answer_failed or test_failure(cell)
            if answer_is_stub or raised_stub(cell):
                items.append(("not started", nbs.grade_id(cell), f"{points:g} points"))
            else:
                items.append((FAILS if failure else PASSES, nbs.grade_id(cell),
                              f"{points:g} points" + (f": {failure}" if failure else "")))
        elif nbs.is_manual(cell):
            blank = not cell.source.strip() or MANUAL_STUB in cell.source
            items.append(("not started" if blank else "written", nbs.grade_id(cell),
                          f"{points:g} points, graded by a TA"))
    return items


def render(name: str, items: list[tuple[str, str, str]]) -> str:
    tests = [i for i in items if not i[2].endswith("graded by a TA")]
    passed = sum(i[0] == PASSES for i in tests)
    width = max(len(PASSES), *(len(state) for state, _, _ in items)) + 1
    lines = [f"Self-check of {name} (visible tests only)"]
    lines += [f"  [{state}]{' ' * (width - len(state))}{part} ({detail})" for state, part, detail in items]
    lines += [f"Visible tests passing: {passed} of {len(tests)}.", NOT_YOUR_GRADE]
    return "\n".join(lines)


def name_warning(path: Path) -> str:
    """A notebook is graded by its name: 'Copy of 01-regression.ipynb' would earn nothing."""
    if ASSIGNMENT_NAME.match(path.stem):
        return ""
    found = re.search(r"\d\d-[a-z0-9-]+?(?=[^a-z0-9-]|$)", path.stem)
    right = f"{found.group(0)}.ipynb" if found else "the name it was handed out with"
    return (f"WARNING: this notebook is named {path.name!r}. Notebooks are graded by name: rename it to "
            f"{right} before you submit, or it will earn no points.")


def main(path: Path) -> int:
    """Print the checklist of one notebook; 0 whatever it says (it is a check, not a grade)."""
    warning = name_warning(path)
    print("\n".join(([warning] if warning else []) + [render(path.name, checklist(run_visible(path)))]))
    return 0
