"""The judge: test cells are scored in the grader's process, from what they observed.

Runs in nbgrader's autograde pipeline right after the kernel is gone (configured in
nbgrader_config.py, so `make grade`, the formgrader's button and `nbgrader autograde` all use it).
For each test cell it reads the observations the hidden part reported, compares them with the
reference run's (expected.py) under the checks the source notebook declares, and replaces the
cell's outputs with its own verdict: nothing on a pass, one error naming what failed otherwise.
nbgrader then scores the cell from that verdict as usual. What the kernel wrote in the cell is kept
in the cell's metadata for the instructor's graded copy, and never reaches the feedback.

A misconception is named only when the wrong observations equal those of a mutant that has it.

With variants of the data (variants.py), the grader says which variant the student has and the
judge compares with that variant's reference run. A failing test whose values pass against another
variant's is marked in the cell's metadata (variants.MATCH) for the staff; its score and message are
still those of the student's own variant.
"""
from __future__ import annotations

import json
import re
from typing import Any

from nbformat import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List, Unicode

from . import checks, expected, variants
from .course import Course, CourseError
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
        records, variant, refusal = self._records(assignment, f"{info.get('notebook')}.ipynb", info.get("student"))
        for cell in nb.cells:
            if is_test(cell) and cell.cell_type != "code":
                retyped(cell)
            elif is_test(cell):
                record = records.get(grade_id(cell))
                failure = refusal or judge_cell(cell, record, variant)
                keep_kernel_outputs(cell)
                other = other_variant(cell, record, variant) if failure and not refusal else None
                if other is not None:
                    cell.metadata.eds[variants.MATCH] = other
                cell.outputs = [verdict(failure)] if failure else []
        return nb, resources

    def _records(self, assignment: str, notebook: str, student: str | None) -> tuple[dict, int, str]:
        """The store's records of this notebook and the student's variant, or why there are none
        (every test then fails)."""
        course = Course.of_nbgrader(CourseDirectory(config=self.config))
        try:
            records = expected.load(course, assignment)["notebooks"].get(notebook)
            variant = variants.of_student(course, assignment, student) if student else 0
        except CourseError as exc:
            self.log.error("%s", exc)
            return {}, 0, f"the grader cannot judge this test: {exc}. Nothing you did caused this; tell your instructor."
        if records is None:
            return {}, 0, f"the grader has no expected observations for {notebook}: tell your instructor."
        return records, variant, ""


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


def reference_of(record: dict, variant: int = 0) -> dict[str, Any]:
    """A test cell's expected observations for a variant of the data, decoded: that variant's
    reference run (variant 0's where the cell observed the same on every variant)."""
    values = record.get("variants", {}).get(str(variant), record["expected"])
    return {name: decode(value) for name, value in values.items()}


def judge_cell(cell: NotebookNode, record: dict | None, variant: int = 0) -> str:
    """Why the cell fails ('' if it passes), judged against the student's variant of the data."""
    if record is None:
        return "the grader has no expected observations for this test (its store is stale): tell your instructor."
    if record["source_sha256"] != expected.cell_sha256(cell):
        return "this test changed after its expected observations were recorded: tell your instructor."
    raw, problems = cell_observations(cell)
    if problems:
        return "the test's report could not be used: " + "; ".join(problems)
    unexpected = sorted(set(raw) - set(record["expected"]))
    if unexpected:
        return f"the test cell reported observations the test does not make: {unexpected[:3]}"
    got, failed = decoded(raw, record, stopped_by(cell))
    reference = reference_of(record, variant)
    failed |= failures(got, reference, record)
    if not failed:
        return ""
    lines = [f"{record['checks'].get(name, {}).get('what', name)}: {why}" for name, why in failed.items()]
    hint = misconception(record, got, set(failed), reference) if hinted(record, variant) else ""
    return "\n".join(lines + ([f"Misconception: {hint}"] if hint else []))


def decoded(raw: dict, record: dict, stopped: str = "") -> tuple[dict[str, Any], dict[str, str]]:
    """The observations the record expects, decoded (MISSING where not reported), and why those that
    cannot be judged fail."""
    got, failed = {}, {}
    for name in record["expected"]:
        try:
            got[name] = decode(raw[name]) if name in raw else MISSING
        except Unreadable as exc:
            failed[name] = str(exc)
            continue
        if got[name] is MISSING:
            failed[name] = f"not reported: the test stopped before it{stopped}"
    return got, failed


def failures(got: dict[str, Any], reference: dict[str, Any], record: dict) -> dict[str, str]:
    """Why each reported observation fails its check against `reference` (passing ones left out)."""
    found = {name: checks.judge(value, reference[name], record["checks"].get(name, {}), reference)
             for name, value in got.items() if value is not MISSING}
    return {name: why for name, why in found.items() if why}


def hinted(record: dict, variant: int) -> bool:
    """Mutants are recorded on variant 0's data: a cell whose observations depend on the data names a
    misconception only for variant 0, never from values another variant's data would make."""
    return variant == 0 or not record.get("variants")


def other_variant(cell: NotebookNode, record: dict | None, variant: int) -> int | None:
    """The first other variant whose reference run the cell's observations pass, if any."""
    if not record or not record.get("variants"):
        return None
    raw, problems = cell_observations(cell)
    got, failed = decoded(raw, record)
    if problems or failed:
        return None
    others = sorted({0, *map(int, record["variants"])} - {variant})
    return next((other for other in others if not failures(got, reference_of(record, other), record)), None)


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
    got, unjudgeable = decoded(observed, record)
    return set(unjudgeable) | set(failures(got, reference, record))


def _same_as_mutant(name: str, value: Any, observed: dict, record: dict, reference: dict) -> bool:
    """Equal to the mutant's value under the cell's check; for a bound, both fail it."""
    spec = record["checks"].get(name, {})
    if name not in observed or value is MISSING:
        return name not in observed and value is MISSING
    theirs = decode(observed[name])
    if checks.relative(spec):
        return checks.judge(value, theirs, spec, reference) is None
    return checks.judge(theirs, None, spec, reference) is not None
