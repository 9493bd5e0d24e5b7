"""The judge: test cells are scored in the grader's process, from what they observed.

Runs in nbgrader's autograde pipeline right after the kernel is gone (configured in
nbgrader_config.py, so `make grade`, the formgrader's button and `nbgrader autograde` all use it).
For each test cell it reads the observations the hidden part reported, compares them with the
reference run's (expected.py) under the checks the source notebook declares, and replaces the
cell's outputs with its own verdict: nothing on a pass, one error naming what failed otherwise.
nbgrader then scores the cell from that verdict as usual. What the kernel wrote in the cell is kept
in the cell's metadata for the instructor's graded copy, and never reaches the feedback.

A misconception is named only when the wrong observations equal those of a mutant that has it.
"""
from __future__ import annotations

import json
import re
from typing import Any

from nbformat import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List, Unicode

from . import checks, expected
from .course import Course
from .notebooks import grade_id, is_test
from .observations import Unreadable, cell_observations, decode

KEPT_OUTPUT_BYTES = 64 * 1024   # what the instructor's copy keeps of each output of a test cell
ERROR_NAME = re.compile(r"^[A-Za-z_][\w.]{0,60}$")
VERDICT = "CheckFailed"
MISSING = object()   # an observation the test did not report (None is a value a function may return)


class Judge(NbGraderPreprocessor):
    """Decide every test cell of a judged assignment from its observations."""

    unjudged = List(Unicode(), help="assignments still graded by their in-kernel asserts "
                                    "(not yet converted to observing tests)").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict):
        info = resources.get("nbgrader", {})
        assignment = info.get("assignment")
        if assignment in self.unjudged:
            return nb, resources
        records, refusal = self._records(assignment, f"{info.get('notebook')}.ipynb")
        for cell in nb.cells:
            if is_test(cell) and cell.cell_type != "code":
                retyped(cell)
            elif is_test(cell):
                failure = refusal or judge_cell(cell, records.get(grade_id(cell)))
                keep_kernel_outputs(cell)
                cell.outputs = [verdict(failure)] if failure else []
        return nb, resources

    def _records(self, assignment: str, notebook: str) -> tuple[dict, str]:
        """The store's records of this notebook, or why there are none (every test then fails)."""
        course = Course.of_nbgrader(CourseDirectory(config=self.config))
        try:
            records = expected.load(course, assignment)["notebooks"].get(notebook)
        except expected.StoreError as exc:
            self.log.error("%s", exc)
            return {}, f"the grader cannot judge this test: {exc}. Nothing you did caused this; tell your instructor."
        if records is None:
            return {}, f"the grader has no expected observations for {notebook}: tell your instructor."
        return records, ""


def preload_checks(course: Course, assignment: str) -> None:
    """Import, before the grading workers fork, what this assignment's checks score with."""
    try:
        store = expected.load(course, assignment)
    except expected.StoreError:
        return   # the judge says why, in each submission's feedback
    checks.preload(spec.get("check", "equal") for cells in store["notebooks"].values()
                   for record in cells.values() for spec in record["checks"].values())


def judged(course: Course, assignment: str) -> bool:
    """Whether the judge decides this assignment's tests (all but those listed as unjudged)."""
    return assignment not in Judge(config=course.config()).unjudged


def retyped(cell: NotebookNode) -> None:
    """A test cell handed back as text ran nothing: it fails. As text, nbgrader would leave it to a
    TA (a grade cell that is not code is graded by hand) on every path that did not restore it."""
    cell.cell_type, cell.execution_count = "code", None
    cell.outputs = [verdict("this test cell was changed into text, so it did not run")]
    cell.pop("attachments", None)


def verdict(message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=VERDICT, evalue=message, traceback=[f"{VERDICT}: {message}"])


def keep_kernel_outputs(cell: NotebookNode) -> None:
    """The kernel's own outputs of a test cell, for the instructor's copy only: each output kept
    whole up to a cap, a longer text cut there, anything else that large only counted."""
    cell.setdefault("metadata", NotebookNode())["eds"] = {"kernel_outputs": [capped(o) for o in cell.get("outputs", [])]}


def capped(output: NotebookNode) -> dict:
    size = len(json.dumps(output, default=str))
    if size <= KEPT_OUTPUT_BYTES:
        return dict(output)
    if output.get("output_type") == "stream":
        text = str(output.get("text", ""))
        return {**output, "text": text[:KEPT_OUTPUT_BYTES] + f"\n[... {len(text) - KEPT_OUTPUT_BYTES} more characters]"}
    return {"output_type": output.get("output_type"), "dropped": f"{size} bytes"}


def reference_of(record: dict) -> dict[str, Any]:
    """A test cell's expected observations, decoded: the reference run's values."""
    return {name: decode(value) for name, value in record["expected"].items()}


def judge_cell(cell: NotebookNode, record: dict | None) -> str:
    """Why the cell fails ('' if it passes)."""
    if record is None:
        return "the grader has no expected observations for this test (its store is stale): tell your instructor."
    if record["source_sha256"] != expected.cell_sha256(cell):
        return "this test changed after its expected observations were recorded: tell your instructor."
    raw, problems = cell_observations(cell)
    if problems:
        return "the test's report could not be used: " + "; ".join(problems)
    stopped = stopped_by(cell)
    reference = reference_of(record)
    failures, got = {}, {}
    for name in record["expected"]:
        try:
            got[name] = decode(raw[name]) if name in raw else MISSING
        except Unreadable as exc:
            failures[name] = str(exc)
            continue
        if got[name] is MISSING:
            failures[name] = f"not reported: the test stopped before it{stopped}"
        else:
            failures[name] = checks.judge(got[name], reference[name], record["checks"].get(name, {}), reference)
    unexpected = sorted(set(raw) - set(record["expected"]))
    failed = {name: why for name, why in failures.items() if why}
    if unexpected:
        return f"the test cell reported observations the test does not make: {unexpected[:3]}"
    if not failed:
        return ""
    lines = [f"{record['checks'].get(name, {}).get('what', name)}: {why}" for name, why in failed.items()]
    hint = misconception(record, got, set(failed), reference)
    return "\n".join(lines + ([f"Misconception: {hint}"] if hint else []))


def stopped_by(cell: NotebookNode) -> str:
    """', which raised X' for the cell's error, named only if the name is a plain identifier."""
    names = [o.get("ename", "") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    name = next((n for n in names if isinstance(n, str) and ERROR_NAME.match(n)), None)
    return f" ({name} was raised)" if name else ""


def misconception(record: dict, got: dict[str, Any], failed: set[str], reference: dict | None = None) -> str:
    """The hint of the mutant that fails exactly the observations the student fails, with the
    same values. Equal failing values alone are not enough: a mutant that also fails an observation
    the student passes (say, one that changes its input too) made another mistake."""
    reference = reference or reference_of(record)
    for mutant in record.get("mutants", {}).values():
        if mutant["hint"] and _failing(mutant["observed"], record, reference) == failed and all(
                _same_as_mutant(name, got.get(name, MISSING), mutant["observed"], record, reference) for name in failed):
            return mutant["hint"]
    return ""


def _failing(observed: dict, record: dict, reference: dict) -> set[str]:
    """The observations a mutant's recorded run fails, judged as a student's would be."""
    return {name for name in record["expected"]
            if name not in observed or checks.judge(decode(observed[name]), reference[name],
                                                    record["checks"].get(name, {}), reference)}


def _same_as_mutant(name: str, value: Any, observed: dict, record: dict, reference: dict) -> bool:
    """Equal to the mutant's value under the cell's check; for a bound, both fail it."""
    spec = record["checks"].get(name, {})
    if name not in observed or value is MISSING:
        return name not in observed and value is MISSING
    theirs = decode(observed[name])
    if checks.relative(spec):
        return checks.judge(value, theirs, spec, reference) is None
    return checks.judge(theirs, None, spec, reference) is not None
