"""The store of expected observations: what the reference solution and each mutant report.

Made when the release is made, by running the source notebook (the reference answers with their
hidden tests) in the grader's own environment, then each batch of mutants. It lives in
`source/.expected/<assignment>.json`, under source/, so every kernel is kept from it as from the
hidden tests, and nbgrader copies it neither into a release nor into a working copy. The checks come
from each test cell's metadata (`eds.checks`) in the same trusted source; the judge reads them from
here, never from a submission. Every record names the source it came from, so a stale store is
seen: the judge refuses a test cell whose source changed, and the suite refuses a stale store.

An assignment with variants of its data (variants.py) is run once more per variant; a test cell
whose observations differ from variant 0's keeps that variant's under `variants`, so the store
holds one entry per variant exactly where the data shows. Mutants run on variant 0's data only.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from unittest import mock

from nbclient import NotebookClient
from nbformat import NotebookNode

from . import mutants as mutant_files, notebooks as nbs, variants
from .checks import CHECKS
from .course import Course, CourseError
from .emitter import InstallsEmitter
from .observations import cell_observations
from .sandbox.environment import KernelEnvironment

FORMAT = 1


class StoreError(CourseError):
    """The store is missing, unreadable or does not match the source."""


def path(course: Course, assignment: str) -> Path:
    return course.source_dir / ".expected" / f"{assignment}.json"


def mutants_path(course: Course, assignment: str) -> Path:
    return course.root / "tests" / "mutants" / f"{assignment}.toml"


def cell_sha256(cell: NotebookNode) -> str:
    """What a test cell's record is tied to: the code it runs. Comments and blank lines do not count,
    so a cell nbgrader re-adds with a comment saying so still matches its record."""
    code = [line.rstrip() for line in cell.source.splitlines() if line.strip() and not line.strip().startswith("#")]
    return hashlib.sha256("\n".join(code).encode()).hexdigest()


def declared_checks(cell: NotebookNode) -> dict:
    checks = cell.get("metadata", {}).get("eds", {}).get("checks", {})
    unknown = {name: spec.get("check") for name, spec in checks.items() if spec.get("check", "equal") not in CHECKS}
    if unknown:
        raise StoreError(f"{nbs.grade_id(cell)}: unknown checks {unknown} (known: {', '.join(CHECKS)})")
    return dict(checks)


def datasets_read(course: Course, assignment: str) -> list[str]:
    """The datasets of data/ an assignment reads: those its notebooks name (`DATA_DIR / "river"`), so
    that a change to one dataset re-records only the assignments that read it."""
    text = "".join(cell.source for name in course.notebook_names(assignment)
                   for cell in nbs.read(course.source_dir / assignment / name).cells)
    return [p.parent.name for p in sorted(course.data_dir.glob("*/SHA256SUMS")) if f'"{p.parent.name}"' in text]


def inputs_sha256(course: Course, assignment: str) -> dict[str, str]:
    """What the recorded values depend on besides the test cells: the data it reads and the mutants."""
    sums = "".join((course.data_dir / d / "SHA256SUMS").read_text() for d in datasets_read(course, assignment))
    mutants = mutants_path(course, assignment)
    found = {"data": hashlib.sha256(sums.encode()).hexdigest(),
             "mutants": hashlib.sha256(mutants.read_bytes() if mutants.exists() else b"").hexdigest()}
    varied = variants.datasets(course, assignment)
    if varied:
        declared = f"{variants.count(course, assignment)} {varied}" + "".join(
            (course.data_dir / d / variants.SUMS).read_text() for d in varied if (course.data_dir / d / variants.SUMS).exists())
        found["variants"] = hashlib.sha256(declared.encode()).hexdigest()
    return found


class ReferenceRun(InstallsEmitter, NotebookClient):
    """nbclient's plain run of a trusted notebook, with the emitter before each test cell."""


def run(course: Course, nb: NotebookNode, folder: Path, data: Path | None = None) -> NotebookNode:
    """Execute a trusted notebook as grading would (same kernel environment), in a scratch copy of
    `folder`, on the data in `data` (the committed data by default). The copy keeps whatever a run
    writes (a mutant saving to a fixed path) out of source/, whose files the release hands out."""
    timeout = course.config().Execute.get("timeout", 120)
    env = {**KernelEnvironment.of(data or course.data_dir).settings, "NBGRADER_EXECUTION": "autograde"}
    with tempfile.TemporaryDirectory(prefix="eds-reference-") as scratch, mock.patch.dict(os.environ, env):
        work = shutil.copytree(folder, Path(scratch) / folder.name)
        client = ReferenceRun(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                              resources={"metadata": {"path": str(work)}})
        return client.execute(stderr=subprocess.DEVNULL)  # the kernel's start-up chatter is noise here


def observed(nb: NotebookNode, cell_ids: set[str]) -> dict[str, dict]:
    """The observations of the given test cells of an executed notebook, by grade id."""
    found = {}
    for cell in nb.cells:
        if nbs.grade_id(cell) in cell_ids:
            values, problems = cell_observations(cell)
            if problems:
                raise StoreError(f"{nbs.grade_id(cell)}: {'; '.join(problems)}")
            found[nbs.grade_id(cell)] = values
    return found


def errors_in(nb: NotebookNode) -> list[str]:
    return [f"{nbs.grade_id(c) or c.source[:40]!r}: {o.get('ename')}: {o.get('evalue')}"
            for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


def record_notebook(course: Course, assignment: str, name: str) -> dict:
    """Run the reference and every mutant batch of one notebook; the record of each test cell."""
    source = nbs.read(course.source_dir / assignment / name)
    folder = course.source_dir / assignment
    tests = {nbs.grade_id(c): c for c in source.cells if nbs.is_test(c)}
    reference = run(course, source, folder)
    if errors_in(reference):
        raise StoreError(f"the reference run of {assignment}/{name} raised: {errors_in(reference)[:3]}")
    expected = observed(reference, set(tests))
    empty = sorted(gid for gid, values in expected.items() if not values)
    if empty:
        raise StoreError(f"{assignment}: test cells that observe nothing: {empty}")
    cells = {gid: {"source_sha256": cell_sha256(cell), "checks": declared_checks(cell),
                   "expected": expected[gid], "mutants": {}} for gid, cell in tests.items()}
    for variant in range(1, variants.count(course, assignment)):
        other = run(course, source, folder, variants.data_for(course, assignment, variant))
        if errors_in(other):
            raise StoreError(f"the reference run of {assignment}/{name} on variant {variant} raised: {errors_in(other)[:3]}")
        for gid, values in observed(other, set(tests)).items():
            if values != expected[gid]:
                cells[gid].setdefault("variants", {})[str(variant)] = values
    for batch in mutant_files.batches(mutant_files.load(mutants_path(course, assignment))):
        seen = observed(run(course, mutant_files.apply(source, batch), folder), set(tests))
        for mutant in batch:
            for gid in mutant.kills:
                cells[gid]["mutants"][mutant.name] = {"hint": mutant.hint, "observed": seen[gid]}
    return cells


def record(course: Course, assignment: str) -> Path:
    """Write the store of one assignment from its source notebooks and mutants (and, with variants,
    their data's checksums first: the reference runs read the data they describe)."""
    variants.write_sums(course, assignment)
    store = {"format": FORMAT, "assignment": assignment, "inputs": inputs_sha256(course, assignment),
             "notebooks": {name: record_notebook(course, assignment, name)
                           for name in course.notebook_names(assignment)}}
    out = path(course, assignment)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(store, indent=1, sort_keys=True) + "\n")
    return out


def load(course: Course, assignment: str) -> dict:
    """The store of one assignment; StoreError if there is none or it cannot be read."""
    try:
        store = json.loads(path(course, assignment).read_text())
    except FileNotFoundError as exc:
        raise StoreError(f"no expected observations for {assignment}: run `make release A={assignment}`") from exc
    except (OSError, ValueError) as exc:
        raise StoreError(f"the expected observations of {assignment} cannot be read: {exc}") from exc
    if store.get("format") != FORMAT or store.get("assignment") != assignment:
        raise StoreError(f"the expected observations of {assignment} are of another format or assignment")
    return store


def stale(course: Course, assignment: str) -> list[str]:
    """Why the store no longer matches the source, the data or the mutants (empty if it does)."""
    store = load(course, assignment)
    why = [f"the {what} changed" for what, sha in inputs_sha256(course, assignment).items()
           if store["inputs"].get(what) != sha]
    for name in course.notebook_names(assignment):
        recorded = store["notebooks"].get(name, {})
        tests = {nbs.grade_id(c): c for c in nbs.read(course.source_dir / assignment / name).cells if nbs.is_test(c)}
        if set(recorded) != set(tests):
            why.append(f"{name}: the test cells are {sorted(tests)}, the store has {sorted(recorded)}")
        why += [f"{gid} changed" for gid, cell in tests.items() if gid in recorded and (
            recorded[gid]["source_sha256"] != cell_sha256(cell) or recorded[gid]["checks"] != declared_checks(cell))]
    return why
