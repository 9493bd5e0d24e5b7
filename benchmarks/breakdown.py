"""Where one submission's grading time goes, measured inside the grading worker.

The worker is a forked copy of this process, so the stages are timed by wrapping, before grading
starts, the functions each stage runs (wall clock, summed over calls); the wrapped worker writes
the sums to a file when the submission is done. The kernel's own share (each cell's execution, the
imports cell apart) comes from the timing nbclient records in the graded notebook. A plain nbclient
run of the same notebook, timed the same way, is the baseline. Reports only: nothing here passes or fails.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import subprocess
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import nbclient

from autograder import grading, notebooks as nbs
from autograder.course import Course

# (label, module, attribute path): the stages of one submission, outermost first.
STAGES = (
    ("submission, all of it", "autograder.grading", "_worker"),
    ("intake: checks", "autograder.intake", "check"),
    ("kernel started before its turn (warm.py)", "autograder.warm", "start"),
    ("intake: staging", "autograder.intake", "stage"),
    ("nbgrader autograde", "nbgrader.apps.api", "NbGraderAPI.autograde"),
    ("sanitize (restore test cells)", "autograder.sanitize", "RestoreCourseShape.preprocess"),
    ("execution, kernel start to stop", "autograder.guard", "GuardedExecute.preprocess"),
    ("kernel start (sandboxed)", "autograder.guard", "GuardedExecute.start_new_kernel"),
    ("kernel start (sandboxed)", "autograder.guard", "GuardedExecute.start_new_kernel_client"),
    ("kernel stop", "jupyter_client.manager", "AsyncKernelManager.shutdown_kernel"),
    ("guard probes", "autograder.guard", "GuardedExecute._tampering"),
    ("judge", "autograder.judge", "Judge.preprocess"),
    ("gradebook: saving scores", "nbgrader.preprocessors.saveautogrades", "SaveAutoGrades.preprocess"),
)
SPENT: dict[str, float] = defaultdict(float)


def plain_client(folder: Path, assignment: str) -> nbclient.NotebookClient:
    """nbclient alone on the solution of `assignment` in `folder`: the baseline of every ratio. Run it
    with `execute(**QUIET)`: ipykernel's warnings on its own stderr stay off the console."""
    return nbclient.NotebookClient(nbs.read(folder / f"{assignment}.ipynb"), timeout=600, kernel_name="python3",
                                   resources={"metadata": {"path": str(folder)}})


QUIET = {"stderr": subprocess.DEVNULL}


def timed(label: str, function):
    """`function`, adding its wall time to SPENT[label] (coroutines timed from start to return)."""
    if inspect.iscoroutinefunction(function):
        @functools.wraps(function)
        async def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                SPENT[label] += time.perf_counter() - started
    else:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                SPENT[label] += time.perf_counter() - started
    return wrapper


def wrap(module_name: str, path: str, label: str) -> None:
    owner = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    setattr(owner, name, timed(label, getattr(owner, name)))


def instrument(out: Path) -> None:
    """Time every stage in the workers forked after this call; each submission's sums go to `out`."""
    for label, module_name, path in STAGES[1:]:
        wrap(module_name, path, label)
    original = grading._worker

    def worker(*args, **kwargs):
        SPENT.clear()
        try:
            return timed(STAGES[0][0], original)(*args, **kwargs)
        finally:
            out.write_text(json.dumps(SPENT))
    grading._worker = worker


def cell_seconds(nb) -> list[float]:
    """Each code cell's execution time in the kernel, from nbclient's timing metadata."""
    spans = []
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type == "code" and "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            start, end = (datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                          for k in ("iopub.execute_input", "shell.execute_reply"))
            spans.append((end - start).total_seconds())
    return spans


def plain(course: Course, assignment: str) -> dict[str, float]:
    """The solution run by nbclient alone: total, kernel start, cells, the imports cell."""
    os.environ["NBGRADER_EXECUTION"] = "autograde"   # the self-check cell idles, as when graded
    folder = course.solutions_dir / assignment
    client = plain_client(folder, assignment)
    SPENT.clear()
    for name in ("async_start_new_kernel", "async_start_new_kernel_client"):
        setattr(client, name, timed("kernel start", getattr(client, name)))
    started = time.perf_counter()
    nb = client.execute(**QUIET)
    cells = cell_seconds(nb)
    return {"total": time.perf_counter() - started, "kernel start": SPENT["kernel start"],
            "kernel stop": SPENT["kernel stop"], "cells": sum(cells), "imports cell": cells[0] if cells else 0.0}


def graded(course: Course, assignment: str, scratch: Path) -> dict[str, float]:
    """One solution graded (--jobs 1) with every stage timed (by `instrument(scratch / "stages.json")`),
    and the kernel's share of it."""
    subs = scratch / f"{assignment}-subs"
    nbs.write(nbs.read(course.solutions_dir / assignment / f"{assignment}.ipynb"),
              subs / "student" / assignment / f"{assignment}.ipynb")
    work = Course(workdir=scratch / f"{assignment}-work")
    grading.grade(work, assignment, subs, jobs=1)
    stages = json.loads((scratch / "stages.json").read_text())
    notebook = grading.grading_course(work).dir_of("autograded") / "student" / assignment / f"{assignment}.ipynb"
    cells = cell_seconds(nbs.read(notebook))
    return {**stages, "cells": sum(cells), "imports cell": cells[0] if cells else 0.0}


def section(course: Course, assignments: list[str], scratch: Path) -> list[str]:
    """The RESULTS.md section: per assignment, each stage's seconds, graded beside plain."""
    instrument(scratch / "stages.json")
    rows = {}
    for assignment in assignments:
        graded_times = graded(course, assignment, scratch)
        rows[assignment] = (graded_times, plain(course, assignment))
        print(f"breakdown {assignment}: {graded_times[STAGES[0][0]]:.1f} s graded, "
              f"{rows[assignment][1]['total']:.1f} s plain", flush=True)
    return render(rows)


def render(rows: dict[str, tuple[dict, dict]]) -> list[str]:
    names = list(rows)
    lines = ["## Where a submission's time goes (solution, --jobs 1)\n",
             "Seconds, summed over calls, measured inside the grading worker by wrapping each stage "
             "(`benchmarks/breakdown.py`); nested stages are part of the one above them. "
             "The plain nbclient run of the same notebook is the baseline.\n",
             "| stage | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
    stages = list(dict.fromkeys(label for label, *_ in STAGES))
    labels = stages + ["cells (in the kernel)", "imports cell (in the kernel)"]
    keys = stages + ["cells", "imports cell"]
    for label, key in zip(labels, keys):
        lines.append(f"| {label} | " + " | ".join(f"{rows[a][0].get(key, 0.0):.2f}" for a in names) + " |")
    lines.append("| **plain nbclient run** | " + " | ".join(f"{rows[a][1]['total']:.2f}" for a in names) + " |")
    for key in ("kernel start", "kernel stop", "cells", "imports cell"):
        lines.append(f"| plain: {key} | " + " | ".join(f"{rows[a][1][key]:.2f}" for a in names) + " |")
    lines.append("| **ratio graded / plain** | " + " | ".join(
        f"{rows[a][0][STAGES[0][0]] / rows[a][1]['total']:.2f}" for a in names) + " |")
    return lines + [""]
