"""The sample class: simulated students for every assignment, graded end to end.

Each student stands for a case a real class always has. They are built from the committed
solutions/ and release/ notebooks and from the assignment's mutants, so the demo always matches the
current assignments; where tests/own_answers/ has answers written otherwise than the reference, two
students hand those in and a third copies one of them with other names and layout (the similarity
page must list that pair only).
"""
from __future__ import annotations

import ast
import base64
import contextlib
import copy
import functools
import shutil
import sys
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat

from . import export, feedback, grading, mutants, report, variants
from . import notebooks as nbs
from .course import Course, REPO
from .progress import Progress
from .quiet import warnings_to
from .schedule import due_date


TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
OTHER_VARIANT = "hal-other-variant"   # only in the class of an assignment with variants of its data


def _perfect(solution, assignment):
    return solution


def _planted(assignment: str) -> list[mutants.Mutant]:
    """The known misconceptions of the partial student: every other mutant of the first batch."""
    batch = mutants.batches(mutants.load(REPO / "tests" / "mutants" / f"{assignment}.toml"))
    return batch[0][::2] if batch else []


def _partial(solution, assignment):
    """Right but for some known misconceptions."""
    planted = _planted(assignment)
    return mutants.apply(solution, planted) if planted else solution


def _crashing(solution, assignment):
    """Kills its own kernel halfway through."""
    nb = nbformat.from_dict(solution)
    answers = [c for c in nb.cells if nbs.is_answer(c)]
    answers[len(answers) // 2].source = "import os\nos._exit(1)"
    return nb


def _test_editor(solution, assignment):
    """Replaces one test cell by `pass` and deletes another: nbgrader must restore both."""
    nb = nbformat.from_dict(solution)
    tests = [c for c in nb.cells if nbs.is_test(c)]
    tests[0].source = "pass"
    nb.cells.remove(tests[-1])
    return nb


def with_data(solution, folder: Path):
    """The notebook reading the data of `folder`, whatever the grader set: what a student who took a
    classmate's data (or numbers) hands in. The data travels inside the notebook, unpacked into the
    kernel's own tmp: a kernel's view holds no data but its own variant's."""
    nb = nbformat.from_dict(solution)
    first = next(c for c in nb.cells if c.cell_type == "code" and "DATA_DIR /" in c.source)
    lines = first.source.splitlines()
    at = next(i for i, line in enumerate(lines) if "DATA_DIR /" in line)   # before the data is first used
    files = {str(p.relative_to(folder)): base64.b64encode(p.read_bytes()).decode()
             for p in sorted(folder.rglob("*")) if p.is_file()}
    unpack = ["import base64, tempfile", "DATA_DIR = Path(tempfile.mkdtemp())",
              f"for _name, _data in {files!r}.items():",
              "    (DATA_DIR / _name).parent.mkdir(parents=True, exist_ok=True)",
              "    (DATA_DIR / _name).write_bytes(base64.b64decode(_data))"]
    first.source = "\n".join(lines[:at] + unpack + lines[at:])
    return nb


def _other_variant(course: Course, solution, assignment):
    """Right, but computed on the next variant's data instead of their own."""
    mine = variants.of_student(course, assignment, OTHER_VARIANT)
    other = (mine + 1) % variants.count(course, assignment)
    return with_data(solution, variants.data_for(course, assignment, other))


def _own_answers(assignment: str) -> dict[str, dict[str, str]]:
    """student -> answer cell -> the body a student wrote in place of the reference's."""
    path = REPO / "tests" / "own_answers" / f"{assignment}.toml"
    return tomllib.loads(path.read_text()) if path.exists() else {}


def _with_body(source: str, body: str) -> str:
    """The source cell with `body` in place of its solution region (markers dropped)."""
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip().startswith(nbs.SOLUTION_MARKERS[0]):
            inside = True
            lines.append(body.strip("\n"))
        elif line.strip().startswith(nbs.SOLUTION_MARKERS[1]):
            inside = False
        elif not inside:
            lines.append(line)
    return "\n".join(lines)


def _own_way(student: str, solution, assignment):
    """Correct, written otherwise than the reference (tests/own_answers/); None without answers there."""
    answers = _own_answers(assignment).get(student)
    if not answers:
        return None
    source = nbs.cells_by_id(nbs.read(REPO / "source" / assignment / f"{assignment}.ipynb"))
    nb = nbformat.from_dict(solution)
    cells = nbs.cells_by_id(nb)
    for cell, body in answers.items():
        cells[cell].source = _with_body(source[cell].source, body)
    return nb


class _Renamed(ast.NodeTransformer):
    """Every local variable of a function renamed (its parameters kept: tests may pass them by name)."""

    def visit_FunctionDef(self, node):
        kept = {a.arg for a in node.args.args + node.args.kwonlyargs}
        stored = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        names = {old: f"v{i}" for i, old in enumerate(sorted(stored - kept))}
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id in names:
                n.id = names[n.id]
        return node


def _disguised(nb):
    """What a student who copied does to hide it: names changed, comments and layout redone."""
    nb = copy.deepcopy(nb)
    for cell in filter(nbs.is_answer, nb.cells):
        cell.source = "# my own work\n" + ast.unparse(_Renamed().visit(ast.parse(cell.source)))
    return nb


def _copier(of: str, solution, assignment):
    """Hands in `of`'s notebook, disguised; None where `of` has no notebook of their own."""
    original = _own_way(of, solution, assignment)
    return _disguised(original) if original else None


# (student id, how the notebook is made, file name or None for the expected one, days after the due date).
# A student whose notebook is made as None sits this assignment out.
STUDENTS = [
    ("ada-perfect", _perfect, None, -1),
    ("ben-partial", _partial, None, -1),
    ("cleo-blank", None, None, -1),
    ("dan-crashing", _crashing, None, -1),
    ("eve-test-editor", _test_editor, None, -1),
    ("finn-late", _perfect, None, 2),
    ("gus-renamed", _perfect, "Copy of {}", -1),
    ("hana-own-way", functools.partial(_own_way, "hana-own-way"), None, -1),
    ("ivan-copy", functools.partial(_copier, "hana-own-way"), None, -1),
    ("jade-own-way", functools.partial(_own_way, "jade-own-way"), None, -1),
]


def students(course: Course, assignment: str) -> list[tuple]:
    """The sample class of one assignment: with variants of its data, one student used another's."""
    return STUDENTS + ([(OTHER_VARIANT, functools.partial(_other_variant, course), None, -1)]
                       if variants.count(course, assignment) > 1 else [])


def build_class(course: Course, assignment: str, out: Path) -> list[str]:
    """Write out/<student>/<assignment>/ for every simulated student; returns the student ids."""
    name = f"{assignment}.ipynb"
    solution = nbs.read(course.solutions_dir / assignment / name)
    blank = nbs.read(course.release_dir / assignment / name)
    due = due_date(course.config(), assignment)
    built = []
    for student, make, filename, days_late in students(course, assignment):
        folder = out / student / assignment
        if folder.exists():
            shutil.rmtree(folder)
        nb = make(nbformat.from_dict(solution), assignment) if make else blank
        if nb is None:
            continue
        built.append(student)
        nbs.write(nb, folder / (filename.format(name) if filename else name))
        if due:
            stamp = datetime.fromisoformat(due.replace(" UTC", "+00:00")) + timedelta(days=days_late)
            (folder / "timestamp.txt").write_text(stamp.astimezone(timezone.utc).strftime(TIME_FORMAT))
    return built


def grade_class(course: Course, assignments: list[str], submissions: Path, jobs: int) -> list:
    """Build, grade and give feedback for every assignment, with a progress line on a terminal."""
    rows = []
    for assignment in assignments:
        build_class(course, assignment, submissions)
        progress = Progress(sys.stderr, label=assignment)
        try:
            rows += grading.grade(course, assignment, submissions, force=True, jobs=jobs, on_graded=progress)
        finally:
            progress.close()
        feedback.generate(course, assignment)
    return rows


def run(course: Course, assignments: list[str], jobs: int = 2, verbose: bool = False) -> None:
    """Build, grade, give feedback and export for the sample class; print where to look.

    Library warnings go to logs/warnings.log of the working folder unless `verbose`."""
    if course.workdir is None:
        course = Course(root=course.root, workdir=course.root / "var" / "demo")
    submissions = course.work / "submissions"
    log = course.work / "logs" / "warnings.log"
    with contextlib.nullcontext() if verbose else warnings_to(log):
        rows = grade_class(course, assignments, submissions, jobs)
        # What the report checks the feedback against: did each planted misconception get named?
        report.record_planted(course, {a: {"ben-partial": [m.hint for m in _planted(a)]} for a in assignments})
        print(export.summary_table(rows))
        grades = export.nbgrader_csv(course, course.work / "grades.csv")
        status = export.status_csv(course, assignments, course.work / "submissions.csv")
        lms = export.lms_csv(course, assignments, course.work / "lms.csv")
        index = report.generate(course, assignments)
    print(f"\nsubmissions: {submissions}\nfeedback:    {course.dir_of('feedback')}"
          f"\ngrades:      {grades}\nstatuses:    {status}\nLMS grades:  {lms}")
    if not verbose:
        print(f"warnings:    {log} (--verbose shows them here)")
    print(f"\nclass report (open it in a browser): {index}")
