"""Gradebook files an LMS imports as they are: one row per student, one column per assignment.

- Canvas (its gradebook CSV): `Student, ID, SIS User ID, SIS Login ID, Section`, then one column per
  assignment named `<assignment> (<Canvas assignment id>)` when the roster's course gives one, else
  the assignment's name, which Canvas offers to create; a `Points Possible` row first.
- Moodle (grade import from CSV): `Email address` (the field Moodle maps users by), `ID number`,
  `First name`, `Last name`, then one column per assignment, which the import maps to grade items.
- parts.csv: every autograded and written part of every submission, for a TA or a spreadsheet.

Students come from a roster (`roster.csv`: student_id, name, email, lms_id, sis_id, section, and
the variant of the data for assignments with variants; any missing column is empty); a student
graded but not on the roster keeps a row under their id.
Only final scores are written unless provisional ones are asked for: a submission still waiting
for a TA is an empty cell, never its autograded part. The late rule applies to the final score
(autograded and written parts), so a written answer graded later is penalised the same way.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import records
from .course import Course
from .export import PENDING, submission_table
from .late import SECONDS_PER_DAY, PerDayPenalty
from .nbgrader_api import gradebook_for

ROSTER_COLUMNS = ("student_id", "name", "email", "lms_id", "sis_id", "section", "variant")
FINAL = (records.GRADED, records.REJECTED, records.FAILED)


@dataclass(frozen=True)
class Options:
    provisional: bool = False   # also write scores still waiting for a TA (marked in parts.csv)
    decimals: int = 2


def read_roster(path: Path | None) -> pd.DataFrame:
    """The roster as text columns, one row per student id (empty if there is no file)."""
    if path is None or not path.exists():
        return pd.DataFrame(columns=ROSTER_COLUMNS)
    roster = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "student_id" not in roster.columns:
        raise ValueError(f"{path} has no student_id column (columns: {', '.join(roster.columns)})")
    return roster.reindex(columns=ROSTER_COLUMNS, fill_value="").drop_duplicates("student_id")


def final_scores(course: Course, assignments: list[str], options: Options) -> pd.DataFrame:
    """student x assignment: the final score (late rule on the whole score), NaN where there is none
    yet; every student with a submission has a row."""
    rows, rule = [], PerDayPenalty(config=course.config())
    for assignment in assignments:
        table = submission_table(course, assignment)
        for row in table.itertuples():
            final = row.status in FINAL or (options.provisional and row.status == PENDING)
            penalty = rule.late_submission_penalty(row.student, row.raw_score, row.days_late * SECONDS_PER_DAY)
            rows.append({"student_id": row.student, "assignment": assignment,
                         "score": round(row.raw_score - penalty, options.decimals) if final else float("nan")})
    scores = pd.DataFrame(rows, columns=["student_id", "assignment", "score"])
    return scores.pivot(index="student_id", columns="assignment", values="score").reindex(columns=assignments)


def students(roster: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The roster, plus a row for each graded student it does not list."""
    extra = sorted(set(scores.index) - set(roster["student_id"]))
    unlisted = pd.DataFrame({"student_id": extra}).reindex(columns=ROSTER_COLUMNS, fill_value="")
    return pd.concat([roster, unlisted], ignore_index=True)


def max_points(course: Course, assignments: list[str]) -> dict[str, float]:
    with gradebook_for(course) as gb:
        return {a: float(gb.find_assignment(a).max_score) for a in assignments}


def canvas_csv(people: pd.DataFrame, scores: pd.DataFrame, points: dict[str, float], dest: Path) -> Path:
    with dest.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *points])
        out.writerow(["Points Possible", "", "", "", "", *(f"{p:g}" for p in points.values())])
        for person in people.itertuples():
            out.writerow([person.name or person.student_id, person.lms_id, person.sis_id, person.student_id,
                          person.section, *_cells(scores, person.student_id, points)])
    return dest


def moodle_csv(people: pd.DataFrame, scores: pd.DataFrame, points: dict[str, float], dest: Path) -> Path:
    with dest.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["Email address", "ID number", "First name", "Last name", *points])
        for person in people.itertuples():
            first, _, last = (person.name or "").partition(" ")
            out.writerow([person.email, person.student_id, first, last,
                          *_cells(scores, person.student_id, points)])
    return dest


def _cells(scores: pd.DataFrame, student: str, points: dict[str, float]) -> list:
    """One student's scores in assignment order; '' where there is no final score."""
    if student not in scores.index:
        return [""] * len(points)
    return ["" if pd.isna(scores.at[student, a]) else f"{scores.at[student, a]:g}" for a in points]


def parts_csv(course: Course, assignments: list[str], options: Options, dest: Path) -> Path:
    """student, assignment, part, score, max_score, pending: every graded cell of every submission."""
    with dest.open("w", newline="") as fh, gradebook_for(course) as gb:
        out = csv.writer(fh)
        out.writerow(["student_id", "assignment", "part", "score", "max_score", "pending"])
        for assignment in assignments:
            for submission in sorted(gb.assignment_submissions(assignment), key=lambda s: s.student_id):
                for grade in (g for n in submission.notebooks for g in n.grades):
                    pending = bool(grade.needs_manual_grade)
                    score = "" if pending and not options.provisional else round(float(grade.score), options.decimals)
                    out.writerow([submission.student_id, assignment, grade.name, score,
                                  float(grade.max_score), "yes" if pending else ""])
    return dest


def write(course: Course, assignments: list[str], roster: Path | None, options: Options, folder: Path) -> list[Path]:
    """canvas.csv, moodle.csv and parts.csv of the graded assignments, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    scores = final_scores(course, assignments, options)
    people, points = students(read_roster(roster), scores), max_points(course, assignments)
    return [canvas_csv(people, scores, points, folder / "canvas.csv"),
            moodle_csv(people, scores, points, folder / "moodle.csv"),
            parts_csv(course, assignments, options, folder / "parts.csv")]
