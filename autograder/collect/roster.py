"""Who is who: the course roster maps each LMS identity to the course's student id.

A CSV with a `student_id` column and, as the formats need them, `moodle_id` (Moodle's participant
id, the number in its download's folder names), `canvas_id` (Canvas's user id; the roster of the
LMS export keeps it as `lms_id`, which is read when there is no `canvas_id`), `github` (the GitHub
username in a Classroom repository's name), `name` and `email`. Everything is text; a student id
that could not be a folder name is refused here, before anything is written under it.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from ..course import STUDENT_ID, CourseError
from .entries import Identity

COLUMNS = {"moodle": ("moodle_id",), "canvas": ("canvas_id", "lms_id"), "github": ("github",),
           "exchange": ("student_id",)}


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class Roster:
    """Lookups by (kind, LMS id); GitHub usernames and names are case-insensitive, as GitHub's are."""
    ids: dict[tuple[str, str], str] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)
    open: bool = False   # no roster file: exchange ids are taken as they are

    def student(self, identity: Identity) -> tuple[str | None, str]:
        """The course's student id for an identity, and a note when it was matched by name only."""
        key = identity.value.casefold() if identity.kind == "github" else identity.value
        found = self.ids.get((identity.kind, key))
        if found:
            return found, ""
        if self.open and identity.kind == "exchange":
            return identity.value, ""
        by_name = self.names.get(_fold(identity.label), []) if identity.kind == "moodle" else []
        if len(by_name) == 1:
            return by_name[0], f"matched to the roster by name ({identity.label}): its moodle_id is not {identity.value}"
        return None, ""

    def github_users(self) -> list[str]:
        return [value for kind, value in self.ids if kind == "github"]


def read(path: Path | None) -> Roster:
    """The roster at `path`; without one, only the exchange (whose ids are the course's) can be collected."""
    if path is None:
        return Roster(open=True)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
            columns = set(rows[0]) if rows else set()
    except OSError as exc:
        raise CourseError(f"cannot read the roster {path}: {exc.strerror}") from exc
    if rows and "student_id" not in columns:
        raise CourseError(f"{path} has no student_id column (columns: {', '.join(sorted(columns))})")
    roster = Roster()
    for row in rows:
        student = (row.get("student_id") or "").strip()
        if not STUDENT_ID.match(student):
            raise CourseError(f"{path}: {student!r} is not a valid student id (letters, digits, . _ -)")
        for kind, names in COLUMNS.items():
            value = next((row[c].strip() for c in names if (row.get(c) or "").strip()), "")
            if value:
                roster.ids.setdefault((kind, value.casefold() if kind == "github" else value), student)
        if (row.get("name") or "").strip():
            roster.names.setdefault(_fold(row["name"]), []).append(student)
    return roster
