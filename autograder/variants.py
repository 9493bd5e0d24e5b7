"""Variants of an assignment's data: each student fits their own draw, so shared numbers show.

An assignment declares K variants and the datasets they vary (`c.Variants` in nbgrader_config.py).
Variant 0 is the committed data in data/<dataset>/; variant k > 0 is the same generator run with
the seed (SEED, k), written on demand into data/variants/<k>/<dataset>/ (git-ignored: K copies of a
7.8 MB record would break the data budget, a generator run takes seconds) and checked against the
SHA-256 sums committed in data/<dataset>/SHA256SUMS.variants, so a grading machine never judges
against data other than the instructor's.

Which variant a student has is the grader's to say, never the submission's: the roster's `variant`
column if it is set, else a hash of the assignment and the student id modulo K (a new draw per
assignment, so two students who share one variant do not share every one). The grader points the
kernel's EDS_DATA_DIR at that variant's data and the judge compares with that variant's expected
observations. A student's own copy of the notebook reads `variant.txt`, the file the instructor
hands out beside it (`python -m autograder handout`).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

from traitlets import Dict, Int, List, Unicode
from traitlets.config import Configurable

from . import notebooks as nbs
from .course import Course, CourseError
from .lms import read_roster

SUMS = "SHA256SUMS.variants"
HANDOUT = "variant.txt"
MATCH = "variant_match"   # in a judged test cell's metadata.eds: the other variant its values match


class Variants(Configurable):
    """The course's variant settings, read from nbgrader_config.py."""

    count = Dict(key_trait=Unicode(), value_trait=Int(), help="assignment -> number of variants K "
                 "(an assignment not listed has one: everybody gets the committed data)").tag(config=True)
    datasets = Dict(key_trait=Unicode(), value_trait=List(Unicode()),
                    help="assignment -> the datasets of data/ its variants draw anew").tag(config=True)


def count(course: Course, assignment: str) -> int:
    return max(1, Variants(config=course.config()).count.get(assignment, 1))


def datasets(course: Course, assignment: str) -> list[str]:
    return list(Variants(config=course.config()).datasets.get(assignment, [])) if count(course, assignment) > 1 else []


def of_student(course: Course, assignment: str, student: str, roster: Path | None = None) -> int:
    """The variant of one student: the roster's `variant` column (working folder's roster.csv by
    default), else sha256('<assignment>/<student>') modulo K."""
    k = count(course, assignment)
    if k == 1:
        return 0
    table = read_roster(roster or course.work / "roster.csv")
    given = table.loc[table["student_id"] == student, "variant"]
    if len(given) and given.iloc[0].strip():
        value = given.iloc[0].strip()
        if not value.isdigit() or int(value) >= k:
            raise CourseError(f"the roster gives {student} variant {value!r}; {assignment} has variants 0 to {k - 1}")
        return int(value)
    return int(hashlib.sha256(f"{assignment}/{student}".encode()).hexdigest(), 16) % k


def data_root(course: Course, variant: int) -> Path:
    """What EDS_DATA_DIR points at for a variant: data/ itself for variant 0."""
    return course.data_dir if variant == 0 else course.data_dir / "variants" / str(variant)


def _files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def committed_sums(course: Course, dataset: str) -> dict[str, str]:
    """'<k>/<file>' -> SHA-256, from data/<dataset>/SHA256SUMS.variants (empty if there is none)."""
    path = course.data_dir / dataset / SUMS
    if not path.exists():
        return {}
    return {name.strip(): digest for digest, name in (line.split(maxsplit=1) for line in path.read_text().splitlines() if line.strip())}


def _generate(course: Course, dataset: str, variant: int, out: Path) -> None:
    """Run data/<dataset>/generate.py's generate(out, variant) in this process."""
    spec = importlib.util.spec_from_file_location(f"_eds_generate_{dataset}", course.data_dir / dataset / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(out, variant)


def generated(course: Course, dataset: str, variant: int, fresh: bool = False) -> Path:
    """data/variants/<k>/<dataset>, generated if it is missing or does not match the committed sums,
    and refused if it still does not match them; `fresh` (the release) generates it anew, unchecked."""
    folder = data_root(course, variant) / dataset
    want = {name.split("/", 1)[1]: digest for name, digest in committed_sums(course, dataset).items()
            if name.split("/", 1)[0] == str(variant)}
    if not fresh and folder.is_dir() and want and _files(folder) == want:
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = folder.parent / f".{dataset}.{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    _generate(course, dataset, variant, scratch)
    if not fresh and _files(scratch) != want:
        shutil.rmtree(scratch)
        raise CourseError(f"variant {variant} of {dataset} does not match data/{dataset}/{SUMS}: "
                          f"run `make release` after changing its generator")
    if not fresh and folder.is_dir() and _files(folder) == want:   # another grader was quicker
        shutil.rmtree(scratch)
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    try:
        scratch.rename(folder)
    except OSError:   # another grader wrote the same bytes in between
        shutil.rmtree(scratch)
    return folder


def data_for(course: Course, assignment: str, variant: int) -> Path:
    """The data root of one variant (what EDS_DATA_DIR points at), its datasets on disk and checked."""
    for dataset in datasets(course, assignment) if variant else []:
        generated(course, dataset, variant)
    return data_root(course, variant)


def prepare(course: Course, assignment: str) -> None:
    """Every variant's data of the assignment on disk and checked, before any kernel reads it."""
    for variant in range(1, count(course, assignment)):
        data_for(course, assignment, variant)


def write_sums(course: Course, assignment: str) -> list[Path]:
    """At release: generate every variant of the assignment's datasets afresh and commit their sums."""
    written = []
    for dataset in datasets(course, assignment):
        lines = []
        for variant in range(1, count(course, assignment)):
            folder = generated(course, dataset, variant, fresh=True)
            lines += [f"{digest}  {variant}/{name}" for name, digest in _files(folder).items()]
        path = course.data_dir / dataset / SUMS
        path.write_text("\n".join(lines) + "\n")
        written.append(path)
    return written


def handout(course: Course, assignment: str, students: list[str], out: Path) -> list[Path]:
    """out/<student>/<assignment>/variant.txt for each student: the file a student puts beside the
    released notebook so that their own copy reads their own data."""
    paths = []
    for student in students:
        path = out / student / assignment / HANDOUT
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{of_student(course, assignment, student)}\n")
        paths.append(path)
    return paths


def flags(course: Course, assignment: str, student: str) -> tuple[int | None, list[str]]:
    """The student's variant and, from the judge's marks in the autograded notebooks, each test
    whose values match another variant's data (None and nothing for an assignment without variants)."""
    if count(course, assignment) == 1:
        return None, []
    variant = of_student(course, assignment, student)
    folder = course.dir_of("autograded") / student / assignment
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        for cell in nbs.read(path).cells:
            other = cell.get("metadata", {}).get("eds", {}).get(MATCH)
            if nbs.is_test(cell) and other is not None:
                found.append(f"the values of {nbs.grade_id(cell)} match variant {other}'s data, "
                             f"not this student's variant {variant}")
    return variant, found
