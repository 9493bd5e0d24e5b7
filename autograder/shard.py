"""One shard of a grading run: a deterministic 1/N of the class, graded into its own working folder.

A batch engine (a Kubernetes Indexed Job, a GitHub Actions matrix) runs `grade --shard i/N` N-wide;
`merge` then puts the shards together. A student's shard is a stable hash of the student id, so
every machine, Python version and re-run agrees on it (Python's own `hash` is salted per process).
Each finished shard leaves a manifest that says what it graded and from which version of the
assignment, so that merge can refuse shards that do not belong together.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import sqlalchemy

from .course import Course, CourseError

MANIFEST = "shard.json"
SETUP_LOCK = 0x6564_7331  # PostgreSQL advisory lock key: "eds1"


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def has(self, student: str) -> bool:
        """Whether this shard grades `student`."""
        digest = hashlib.sha256(student.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index

    def folder(self, course: Course, assignment: str) -> Path:
        return course.work / "shards" / assignment / f"{self.index}-of-{self.count}"


def parse(text: str) -> Shard:
    """'i/N' with 0 <= i < N (0-based, as Kubernetes' JOB_COMPLETION_INDEX is)."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise CourseError(f"--shard {text!r}: expected i/N, e.g. 0/4") from None
    if count < 1 or not 0 <= index < count:
        raise CourseError(f"--shard {text!r}: index out of range (0 to {count - 1} for {count} shards)"
                          if count >= 1 else f"--shard {text!r}: the number of shards must be at least 1")
    return Shard(index, count)


def fingerprint(course: Course, assignment: str) -> str:
    """The version of an assignment: a hash of every file in its source folder."""
    digest = hashlib.sha256()
    folder = course.source_dir / assignment
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def shard_course(course: Course, assignment: str, shard: Shard) -> Course:
    """The course as the shard sees it: its own working folder, the same database URL if one is set."""
    return dataclasses.replace(course, workdir=shard.folder(course, assignment))


def write_manifest(course: Course, assignment: str, shard: Shard, graded: int) -> Path:
    """Written last, into the shard's working folder (`course` is shard_course's): a shard without
    a manifest did not finish and is not merged."""
    path = course.work / MANIFEST
    manifest = {"assignment": assignment, "shard": str(shard), "index": shard.index, "count": shard.count,
                "fingerprint": fingerprint(course, assignment), "course_id": course.config().CourseDirectory.course_id,
                "own_gradebook": course.db_url is None, "graded": graded}
    path.write_text(json.dumps(manifest, indent=1))
    return path


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise CourseError(f"{folder} is not a finished shard (no {MANIFEST})")
    return json.loads(path.read_text())


@contextmanager
def setup_lock(course: Course) -> Iterator[None]:
    """Held while a grader writes the assignment into a shared PostgreSQL gradebook.

    Shards start together; two nbgrader generate_assignment runs inserting the same cells at once
    make one of them fail on a unique constraint. An advisory lock makes them take turns (SQLite
    gradebooks are one per shard and need none).
    """
    with _advisory_lock(course, shared=False):
        yield


@contextmanager
def writing_lock(course: Course) -> Iterator[None]:
    """Held while one submission is written into a shared PostgreSQL gradebook.

    Until the first submission exists, nbgrader's generate_assignment deletes the assignment's
    notebook and inserts its cells again, one commit at a time: a shard that had finished its set-up
    and added a submission in that window got grades and comments for only the cells inserted so far.
    Writers share the lock; a set-up waits for them, and they for it.
    """
    with _advisory_lock(course, shared=True):
        yield


@contextmanager
def _advisory_lock(course: Course, shared: bool) -> Iterator[None]:
    url = course.config().CourseDirectory.db_url
    if not url.startswith("postgresql"):
        yield
        return
    kind = "_shared" if shared else ""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(f"SELECT pg_advisory_lock{kind}(:key)"), {"key": SETUP_LOCK})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text(f"SELECT pg_advisory_unlock{kind}(:key)"), {"key": SETUP_LOCK})
    finally:
        engine.dispose()
