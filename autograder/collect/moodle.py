"""Moodle's "Download all submissions" zip.

Moodle names each student's files after the student: `<Full Name>_<participant id>_assignsubmission_
file_` followed, with "Download submissions in folders" (the default since Moodle 3.x), by a folder of
the files under their own names, else directly by the file's name (one flat folder). The number is
Moodle's participant id, which Moodle keeps per assignment (the same as in its grading worksheet);
the roster's `moodle_id` maps it, and a student it lacks is matched by a unique full name, noted.
Online text and other submission plugins are not files to grade. The zip records no submission
time, so no timestamp.txt is written: Moodle applies its own due date and shows who was late.
"""
from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Iterator

from . import zips
from .entries import Entry, Identity, Skip

PREFIX = re.compile(r"^(?P<name>.*)_(?P<id>\d+)_assign(?P<area>submission|feedback)_(?P<plugin>[a-z]+)_(?P<rest>.*)$")


def read(source: Path, assignment: str, stack: contextlib.ExitStack, max_bytes: int) -> Iterator[Entry | Skip]:
    return zips.entries(source, stack, max_bytes, _entry)


def _entry(member: zips.Member, where: str) -> Entry | Skip:
    found = PREFIX.match(member.parts[0])
    if not found:
        return Skip(where, "not named as Moodle names a submission (<Full Name>_<id>_assignsubmission_file_)")
    identity = Identity("moodle", found["id"], found["name"])
    filename = member.parts[-1] if len(member.parts) > 1 else found["rest"]
    if found["area"] != "submission" or found["plugin"] != "file":
        return Skip(where, f"not a file submission (Moodle's {found['plugin']} {found['area']})", identity)
    if not filename:
        return Skip(where, "an empty file name", identity)
    return Entry(identity, filename, where, None, member.load)
