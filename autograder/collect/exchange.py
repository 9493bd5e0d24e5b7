"""nbgrader's exchange: `<exchange>/<course>/inbound/<student>+<assignment>+<timestamp>+<random>/`.

Every `nbgrader submit` leaves one such folder; the time in its name is the submission time (as
nbgrader's own collect reads it; the timestamp.txt inside says the same and is not needed). Student
ids are the course's own, so a roster is optional. The folders are written by students: they are
read as submission folders are (intake's reads: regular files only, never through a link, never
past the cap), and only the notebooks at the top of each are candidates.
"""
from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Iterator

from nbgrader.utils import parse_utc

from .. import intake
from ..course import CourseError
from .entries import Entry, Identity, Skip, utc


def read(source: Path, assignment: str, stack: contextlib.ExitStack, max_bytes: int) -> Iterator[Entry | Skip]:
    inbound = source / "inbound" if (source / "inbound").is_dir() else source
    if not inbound.is_dir():
        raise CourseError(f"{source} is not an exchange inbound folder")
    for folder in sorted(inbound.iterdir()):
        parts = folder.name.split("+")
        if len(parts) not in (3, 4) or parts[1] != assignment:
            continue   # another assignment's submissions, or not nbgrader's
        identity = Identity("exchange", parts[0])
        try:
            when = utc(parse_utc(parts[2]))
        except (ValueError, OverflowError):
            yield Skip(folder.name, f"the time in its name ({parts[2]!r}) cannot be read", identity)
            continue
        try:
            fd = intake.open_folder(folder)
        except OSError:
            yield Skip(folder.name, "a link or a file, not a submission folder: not followed", identity, time=when)
            continue
        stack.callback(os.close, fd)
        for name, found in intake.listing(fd).items():
            where = f"{folder.name}/{name}"
            if name == intake.TIMESTAMP:
                continue
            if not stat.S_ISREG(found.st_mode):
                yield Skip(where, f"a {intake.kind(found.st_mode)}: only the files at the top are read", identity, time=when)
            else:
                yield Entry(identity, name, where, when, lambda fd=fd, name=name: intake.read_file(fd, name, max_bytes))
