"""Moodle's "Download all submissions" zip.

Moodle names each student's files after the student: `<Full Name>_<participant id>_assignsubmission_
file_` followed, with "Download submissions in folders" (the default since Moodle 3.x), by a folder of
the files under their own names, else directly by the file's name (one flat folder). The number is
Moodle's participant id, which Moodle keeps per assignment (the same as in its grading worksheet);
the roster's `moodle_id` maps it, and a student it lacks is matched by a unique full name, noted.
Online text and other submission plugins are not files to grade. The zip records no submission
time; Moodle's grading worksheet ("Download grading worksheet", a CSV) does, per participant, in the
zone and English date format of the account that downloaded it. Given (`--moodle-worksheet`, with
`--timezone`), each submission gets its time, so lateness is graded; without it no timestamp.txt is
written and Moodle's own due date is the only record of who was late.
"""
from __future__ import annotations

import contextlib
import csv
import functools
import re
from datetime import datetime
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..course import CourseError

from . import zips
from .entries import Entry, Identity, Skip

PREFIX = re.compile(r"^(?P<name>.*)_(?P<id>\d+)_assign(?P<area>submission|feedback)_(?P<plugin>[a-z]+)_(?P<rest>.*)$")


# Moodle's worksheet: "Participant 12345", and userdate()'s default English day-and-time format.
PARTICIPANT = re.compile(r"^Participant (\d+)$")
WORKSHEET_TIME = "%A, %d %B %Y, %I:%M %p"


def read(source: Path, assignment: str, stack: contextlib.ExitStack, max_bytes: int,
         worksheet: Path | None = None, timezone: str = "UTC") -> Iterator[Entry | Skip]:
    times = submission_times(worksheet, timezone) if worksheet else {}
    return zips.entries(source, stack, max_bytes, functools.partial(_entry, times=times))


def submission_times(worksheet: Path, timezone: str) -> dict[str, datetime]:
    """Participant id -> the time of their last submission, from Moodle's grading worksheet."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CourseError(f"unknown time zone {timezone!r} (an IANA name such as Europe/Zurich)") from exc
    times = {}
    with worksheet.open(newline="", encoding="utf-8-sig") as fh:
        for line, row in enumerate(csv.DictReader(fh), 2):
            participant = PARTICIPANT.match(row.get("Identifier", "") or "")
            when = (row.get("Last modified (submission)") or "").strip()
            if not participant or when in ("", "-"):
                continue
            try:
                times[participant[1]] = datetime.strptime(when, WORKSHEET_TIME).replace(tzinfo=zone)
            except ValueError as exc:
                raise CourseError(f"{worksheet.name}, line {line}: cannot read the submission time {when!r} "
                                  f"(Moodle's English format, e.g. 'Friday, 9 January 2026, 3:05 PM')") from exc
    return times


def _entry(member: zips.Member, where: str, times: dict[str, datetime]) -> Entry | Skip:
    found = PREFIX.match(member.parts[0])
    if not found:
        return Skip(where, "not named as Moodle names a submission (<Full Name>_<id>_assignsubmission_file_)")
    identity = Identity("moodle", found["id"], found["name"])
    filename = member.parts[-1] if len(member.parts) > 1 else found["rest"]
    if found["area"] != "submission" or found["plugin"] != "file":
        return Skip(where, f"not a file submission (Moodle's {found['plugin']} {found['area']})", identity)
    if not filename:
        return Skip(where, "an empty file name", identity)
    return Entry(identity, filename, where, times.get(found["id"]), member.load)
