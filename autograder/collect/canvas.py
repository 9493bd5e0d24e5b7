"""Canvas's "Download Submissions" zip.

Canvas puts every file of the class in one folder, each renamed `<login>_<user id>_<submission id>_
<original name>`, with `late` after the login part for a submission Canvas counts as late (`<login>`
is the login id or lastnamefirstname). The user id is what the roster's `canvas_id` (or the LMS
export's `lms_id`) holds. A file handed in again gets `-1`, `-2`, ... before its extension; the
collector's naming recognises that. The zip holds only the latest submission and no submission
time, so no timestamp.txt is written; Canvas's late flag is kept as a note.
"""
from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Iterator

from . import zips
from .entries import Entry, Identity, Skip

NAME = re.compile(r"^(?P<login>.+?)(?P<late>_late)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$", re.IGNORECASE)


def read(source: Path, assignment: str, stack: contextlib.ExitStack, max_bytes: int) -> Iterator[Entry | Skip]:
    return zips.entries(source, stack, max_bytes, _entry)


def _entry(member: zips.Member, where: str) -> Entry | Skip:
    found = NAME.match(member.parts[-1])
    if not found:
        return Skip(where, "not named as Canvas names a submission (<login>_<user id>_<submission id>_<file>)")
    notes = ["Canvas marks it late; its zip has no submission time, so no timestamp.txt: "
             "apply Canvas's late policy or add the time"] if found["late"] else []
    return Entry(Identity("canvas", found["user"], found["login"]), found["file"], where, None, member.load, notes)
