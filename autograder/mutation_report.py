"""The mutation report: per assignment, how many plausible wrong answers the judge tells apart and
names, read from the store of expected observations (no notebook runs).

A mutant is killed in a cell when its recorded observations fail that cell's checks, and named
there when the judge's misconception for those observations is its own hint (a mutant without a
hint is killed, never named). Unjudged assignments only count their mutants.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import checks, expected, judge, mutants as mutant_files
from .course import Course
from .observations import decode


@dataclass(frozen=True)
class Verdict:
    mutant: str
    cell: str
    killed: bool
    named: bool


def verdicts(course: Course, assignment: str) -> list[Verdict]:
    """One verdict per (mutant, cell it claims to kill), from the store."""
    found = []
    for cells in expected.load(course, assignment)["notebooks"].values():
        for gid, record in cells.items():
            reference = judge.reference_of(record)
            for name, mutant in record["mutants"].items():
                got = {k: decode(v) for k, v in mutant["observed"].items()}
                failed = {k for k, want in reference.items()
                          if k not in got or checks.judge(got[k], want, record["checks"].get(k, {}), reference)}
                named = bool(failed) and bool(mutant["hint"]) and \
                    judge.misconception(record, got, failed, reference) == mutant["hint"]
                found.append(Verdict(name, gid, bool(failed), named))
    return found


def row(course: Course, assignment: str) -> dict:
    listed = mutant_files.load(expected.mutants_path(course, assignment))
    if not judge.judged(course, assignment):
        return {"assignment": assignment, "mutants": len(listed), "killed": "-", "named": "-", "judged": "no"}
    found = verdicts(course, assignment)
    killed = {m.name for m in listed} - {v.mutant for v in found if not v.killed}
    named = {m.name for m in listed if m.hint} - {v.mutant for v in found if not v.named}
    return {"assignment": assignment, "mutants": len(listed), "killed": len(killed),
            "named": f"{len(named)} of {sum(1 for m in listed if m.hint)}", "judged": "yes"}


def render(course: Course, assignments: list[str], cells: bool = False) -> str:
    """A Markdown table (and, with `cells`, the cells each mutant kills)."""
    lines = ["| assignment | judged | mutants | killed | named |", "| --- | --- | ---: | ---: | ---: |"]
    for assignment in assignments:
        r = row(course, assignment)
        lines.append(f"| {r['assignment']} | {r['judged']} | {r['mutants']} | {r['killed']} | {r['named']} |")
    if cells:
        for assignment in assignments:
            for m in mutant_files.load(expected.mutants_path(course, assignment)):
                lines.append(f"{assignment} {m.name}: {', '.join(m.kills)}")
    return "\n".join(lines)
