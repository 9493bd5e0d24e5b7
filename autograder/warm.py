"""A warm kernel: started for its submission, the assignment's libraries imported, before its turn.

Starting a kernel and importing the stack (NumPy, pandas, matplotlib, scikit-learn, PyTorch, ObsPy)
is a good part of a notebook's grading time, paid again for every student. So `grade` forks the
worker of a slot's next submission while the slot's current one is still graded (grading.run_jobs):
the worker checks and stages its submission, starts that submission's kernel in its sandbox exactly
as nbclient would (its own uid, its view, its variant's data, nbgrader's arguments and working
folder), imports the modules the assignment's notebook imports, and waits for its turn; nbclient is
then handed that kernel (guard.GuardedExecute) instead of starting one.

The kernel is that submission's alone: started for it, used by it once, and no code but those
imports has run in it when the notebook's first cell does. Only where the view layer is in force:
the kernel's working copy is then a copy taken as it starts, so nbgrader may remake the folder on
disk (autograde --force) under a kernel that no longer reads it. Whatever goes wrong here leaves the
kernel to nbclient, as without a warm start.
"""
from __future__ import annotations

import ast
import importlib.util
import shutil
import sys

from IPython.core.inputtransformer2 import TransformerManager
from traitlets.config import Config

from . import guard, intake, notebooks as nbs
from .course import Course
from .sandbox.policy import Policy


def modules(course: Course, assignment: str) -> tuple[str, ...]:
    """The installed modules the assignment's student notebooks import, by full name, in order."""
    found = []
    for name in course.notebook_names(assignment):
        for cell in nbs.read(course.release_dir / assignment / name).cells:
            if cell.cell_type == "code":
                found += _imported(cell.source)
    return tuple(dict.fromkeys(name for name in found if _installed(name)))


def _imported(source: str) -> list[str]:
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return []
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def _installed(module: str) -> bool:
    """Whether `module` comes with the kernel's Python (the standard library or its site-packages),
    not from a folder of the course."""
    try:
        spec = importlib.util.find_spec(module.split(".")[0])
    except (ImportError, ValueError):
        return False
    origin = (spec.origin or "") if spec else ""
    return origin in ("built-in", "frozen") or origin.startswith((sys.prefix, sys.base_prefix))


def start(course: Course, config: Config, policy: Policy, assignment: str, student: str,
          checked: intake.Intake, names: tuple[str, ...]) -> str:
    """In `student`'s worker, before its turn, its submission staged: start its kernel with `names`
    imported. Returns a line for the submission's log ("" when the kernel is left to nbclient)."""
    if "view" not in policy.layers or not checked.ok or len(checked.notebooks) != 1:
        return ""
    try:
        guard.hand_over(student, _started(course, config, assignment, student, checked, names))
    except Exception as exc:
        return f"kernel: not started before its turn ({type(exc).__name__}: {exc}); started with the notebook"
    return f"kernel: started before this submission's turn, {len(names)} modules imported (autograder/warm.py)"


def _started(course: Course, config: Config, assignment: str, student: str, checked: intake.Intake,
             names: tuple[str, ...]):
    workdir = course.dir_of("autograded") / student / assignment
    if workdir.exists():
        shutil.rmtree(workdir)
    shutil.copytree(course.dir_of("submitted") / student / assignment, workdir)   # as nbgrader will
    client = guard.GuardedExecute(config=config)
    (client.nb,) = checked.notebooks.values()
    resources = {"metadata": {"path": str(workdir)}, "nbgrader": {"student": student, "assignment": assignment}}
    return client.start_before_turn(resources, names)
