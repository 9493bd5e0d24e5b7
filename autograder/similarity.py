"""Which submissions of an assignment share their answer code: a list for a TA to read, no verdict.

Each answer cell is normalised and fingerprinted by copydetect (MIT, offline, in memory through its
`fp=` argument): Pygments tokens, comments and whitespace dropped, every name and string abstracted
(renaming or reformatting changes nothing; numbers are kept as written), then the k-grams of that
text. copydetect rather than a winnowing of our own over `tokenize`: it drops "boilerplate"
fingerprints (here the code the release gives), maps a match back to the student's own lines for
the side-by-side view, and lexes code that is not valid Python, so a syntax error is compared on what
lexes instead of being skipped. Its default window of 1 keeps every k-gram: answer cells are short,
and copydetect hashes with Python's per-process salted hash(), so a wider window would pick other
fingerprints in each run and a score would change from one report to the next.

The code of the release never counts, nor (`skip_reference`, on by default) that of the reference
solution: independent students who write the canonical answer converge on it, so sharing it says
nothing about two of them. Each student's closeness to the reference is listed apart instead (a
solution key that leaked shows there). Settings: `c.Similarity.<name>` in nbgrader_config.py.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Iterable, Sequence

from copydetect import CodeFingerprint, compare_files
from nbformat import NotebookNode
from traitlets import Bool, Float, Integer
from traitlets.config import Configurable

from . import notebooks as nbs
from . import records
from .course import Course

REFERENCE = "reference solution"   # not a student id (they have no spaces)

Answers = dict[str, str]                       # answer cell -> its source
Prints = dict[str, CodeFingerprint]            # answer cell -> its fingerprints


class Similarity(Configurable):
    """How the similarity page of the class report compares submissions."""

    threshold = Float(0.8, help="a pair is listed when this share of one student's own code (code "
                      "beyond the release and, with skip_reference, the reference solution) matches "
                      "the other's").tag(config=True)
    min_length = Integer(80, min=1, help="a submission with less code of its own than this is not compared: "
                         "characters of normalised code, where a name or a string counts one and "
                         "whitespace and comments none").tag(config=True)
    noise = Integer(25, min=1, help="copydetect's noise threshold k: matches shorter than this many "
                    "characters of normalised code are ignored").tag(config=True)
    skip_reference = Bool(True, help="the reference solution's code does not count between students; "
                          "each student's closeness to it is listed apart").tag(config=True)


@dataclass(frozen=True)
class CellMatch:
    """One answer cell of a pair: both sources, the lines inside a match (0-based), the shares."""

    cell: str
    sources: tuple[str, str]
    lines: tuple[frozenset[int], frozenset[int]]
    shares: tuple[float, float]


@dataclass(frozen=True)
class Pair:
    """Two submissions; shares[i] is the part of student i's own code that matches the other's."""

    students: tuple[str, str]
    shares: tuple[float, float]
    cells: tuple[CellMatch, ...]

    @property
    def score(self) -> float:
        """The larger share: one who copied part of a longer answer is listed too."""
        return max(self.shares)


@dataclass(frozen=True)
class Comparison:
    pairs: list[Pair]         # above the threshold, highest score first
    compared: list[str]
    too_short: list[str]      # less code of their own than min_length


@dataclass(frozen=True)
class Findings:
    """What the page shows for one assignment."""

    students: Comparison
    reference: Comparison | None   # each student against the reference (skip_reference only)
    skipped: dict[str, str]        # student -> why none of their code was read
    settings: Similarity


def fingerprint(code: str, given: list[int], noise: int) -> CodeFingerprint:
    return CodeFingerprint("answer.py", noise, 1, boilerplate=given, fp=io.StringIO(code), language="python")


def given_prints(sources: Iterable[str], noise: int) -> list[int]:
    """The fingerprints of code every student was given (or that does not count): never a match."""
    return sorted({h for code in sources for h in fingerprint(code, [], noise).hashes})


def own_length(prints: Prints) -> float:
    """How much code of their own a submission has, in normalised characters."""
    return float(sum(p.token_coverage for p in prints.values()))


def matched_lines(code: str, slices: Sequence[Sequence[float]]) -> frozenset[int]:
    """The 0-based lines of `code` that a match (copydetect's character slices) covers."""
    return frozenset(line for start, end in zip(*slices) if end > start
                     for line in range(code.count("\n", 0, int(start)), code.count("\n", 0, int(end) - 1) + 1))


def compare_pair(students: tuple[str, str], prints: tuple[Prints, Prints], sources: tuple[Answers, Answers]) -> Pair:
    """Per cell copydetect's overlap, both ways; over the whole submission, matched over own code."""
    cells, matched = [], [0.0, 0.0]
    for cell in [c for c in prints[0] if c in prints[1]]:
        overlap, shares, slices = compare_files(prints[0][cell], prints[1][cell])
        if overlap:
            matched = [m + float(share) * p[cell].token_coverage for m, share, p in zip(matched, shares, prints)]
            cells.append(CellMatch(cell, (sources[0][cell], sources[1][cell]),
                                   (matched_lines(sources[0][cell], slices[0]), matched_lines(sources[1][cell], slices[1])),
                                   (float(shares[0]), float(shares[1]))))
    totals = [own_length(p) for p in prints]
    return Pair(students, (float(matched[0] / totals[0]), float(matched[1] / totals[1])), tuple(cells))


def compare(answers: dict[str, Answers], given: Iterable[str], settings: Similarity,
            against: str | None = None) -> Comparison:
    """Every pair of `answers` (or each one with `against`), the code of `given` not counting."""
    boilerplate = given_prints(given, settings.noise)
    prints = {s: {cell: fingerprint(code, boilerplate, settings.noise) for cell, code in cells.items()}
              for s, cells in answers.items()}
    compared = sorted(s for s in prints if own_length(prints[s]) >= settings.min_length)
    if against is None:
        couples = list(combinations(compared, 2))
    else:
        couples = [(s, against) for s in compared if s != against] if against in compared else []
    pairs = [compare_pair(c, (prints[c[0]], prints[c[1]]), (answers[c[0]], answers[c[1]])) for c in couples]
    above = sorted((p for p in pairs if p.score >= settings.threshold), key=lambda p: (-p.score, p.students))
    return Comparison(above, [s for s in compared if s != against],
                      sorted(s for s in prints if s not in compared and s != against))


def answers_of(nb: NotebookNode, prefix: str = "") -> Answers:
    """The autograded answer cells of a notebook, by grade_id."""
    return {f"{prefix}{nbs.grade_id(c)}": c.source for c in nb.cells if nbs.is_answer(c)}


def code_cells(nb: NotebookNode) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def notebook_of(course: Course, assignment: str, student: str, name: str) -> Path | None:
    """The autograded copy (test cells and metadata put back in the course's shape), else the
    submitted one: a submission whose kernel died has no autograded copy."""
    paths = [course.dir_of(step) / student / assignment / name for step in ("autograded", "submitted")]
    return next((p for p in paths if p.exists()), None)


def submissions(course: Course, assignment: str) -> tuple[dict[str, Answers], dict[str, str]]:
    """student -> answers of every submission with its notebooks; student -> why not, of the others."""
    names = course.notebook_names(assignment)
    found, skipped = {}, {}
    for record in records.load_all(course, assignment):
        if record.status == records.REJECTED:
            skipped[record.student] = f"rejected: {record.reason}"
            continue
        answers = {}
        for name in names:
            path = notebook_of(course, assignment, record.student, name)
            if path is None:
                skipped[record.student] = f"{name} not found"
                break
            try:
                answers |= answers_of(nbs.read(path), prefix(names, name))
            except (OSError, ValueError) as exc:
                skipped[record.student] = f"{name} unreadable: {exc}"
                break
        else:
            found[record.student] = answers
    return found, skipped


def prefix(names: list[str], name: str) -> str:
    """Cells are named by grade_id, with their notebook's name when the assignment has several."""
    return f"{Path(name).stem}/" if len(names) > 1 else ""


def find(course: Course, assignment: str) -> Findings:
    """Compare the submissions of `assignment` as the course's nbgrader_config.py says."""
    settings = Similarity(config=course.config())
    names = course.notebook_names(assignment)
    release = [code for name in names for code in code_cells(nbs.read(course.release_dir / assignment / name))]
    reference = {cell: code for name in names
                 for cell, code in answers_of(nbs.read(course.solutions_dir / assignment / name), prefix(names, name)).items()}
    answers, skipped = submissions(course, assignment)
    if not settings.skip_reference:
        return Findings(compare(answers, release, settings), None, skipped, settings)
    return Findings(compare(answers, release + list(reference.values()), settings),
                    compare(answers | {REFERENCE: reference}, release, settings, against=REFERENCE), skipped, settings)
