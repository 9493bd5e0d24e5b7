"""What every format reader hands the collector: a file some student handed in, or a reason it was
passed over. Readers only find and describe; naming, choosing and writing happen in one place
(`choose` and `__init__`), so the four formats cannot drift apart on what a submission is."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

# nbgrader's exchange writes timestamp.txt in this format (ExchangeSubmit.timestamp_format), in UTC.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"


@dataclass(frozen=True)
class Identity:
    """Who the LMS says handed a file in: `kind` names the roster column that maps `value` to a
    student id (moodle, canvas, github, exchange); `label` is what a person reads (a name, a repo)."""
    kind: str
    value: str
    label: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.value}" + (f" ({self.label})" if self.label and self.label != self.value else "")


@dataclass
class Entry:
    """One handed-in file: where it came from, its own name, its submission time if the format
    records one, and how to read it (at most the cap; readers never write anything)."""
    identity: Identity
    filename: str
    source: str
    time: datetime | None
    load: Callable[[], bytes]
    notes: list[str] = field(default_factory=list)


@dataclass
class Skip:
    """A file, folder or archive member that was not collected, and why, in words for the instructor."""
    source: str
    reason: str
    identity: Identity | None = None
    student: str = ""
    time: datetime | None = None


def utc(moment: datetime) -> datetime:
    """An aware UTC time (a naive one is taken as UTC, as nbgrader's parse_utc returns)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def stamp(moment: datetime | None) -> str:
    """The time as nbgrader writes timestamp.txt ('' for no time)."""
    return utc(moment).strftime(TIMESTAMP_FORMAT) if moment else ""
