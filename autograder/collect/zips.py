"""Reading an LMS download zip without trusting it.

Nothing is ever extracted: a member is read into memory, at most the notebook cap, and the
collector writes it under a path it builds itself (roster id, assignment, expected notebook name),
so no member name reaches the filesystem and zip-slip cannot happen. Names that would have escaped
(absolute, a drive, `..`, backslashes), links, encrypted members and members larger than the cap
are still reported, because an instructor should know the download held them. A zip bomb gets no
further than the cap: a member's declared size is checked before reading, and the read itself
stops one byte past the cap whatever the header claims.
"""
from __future__ import annotations

import contextlib
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

from ..course import CourseError
from .entries import Entry, Skip

MAX_MEMBERS = 20_000   # more than any class hands in; a central directory beyond it is not walked


@dataclass(frozen=True)
class Member:
    """A regular file in the zip with a safe relative name, split into its parts."""
    parts: tuple[str, ...]
    size: int
    load: Callable[[], bytes]


def unsafe(name: str) -> str:
    """Why a member name could not be written as it is ('' if it could)."""
    if "\\" in name or "\0" in name:
        return "its name holds a backslash or NUL"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "its name is an absolute path"
    if ".." in PurePosixPath(name).parts:
        return "its name climbs out of the archive (..)"
    return ""


def members(path: Path, stack: contextlib.ExitStack, max_bytes: int) -> Iterator[Member | Skip]:
    """Every regular file of the zip at `path` that is safe to read, or why a member is not."""
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
    except (OSError, zipfile.BadZipFile) as exc:
        raise CourseError(f"{path} is not a readable zip file ({exc})") from exc
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        yield Skip(str(path), f"the zip has {len(infos)} members: only the first {MAX_MEMBERS} were read")
    for info in infos[:MAX_MEMBERS]:
        name, mode = info.filename, info.external_attr >> 16
        problem = unsafe(name)
        if info.is_dir() and not problem:
            continue
        if problem:
            yield Skip(name, f"not read: {problem}")
        elif stat.S_ISLNK(mode):
            yield Skip(name, "not read: a link in the zip (only regular files are collected)")
        elif info.flag_bits & 0x1:
            yield Skip(name, "not read: encrypted")
        elif info.file_size > max_bytes:
            yield Skip(name, f"not read: larger than {max_bytes // 1024**2} MB ({info.file_size} bytes once unpacked)")
        else:
            parts = tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))
            yield Member(parts, info.file_size, _loader(archive, info, max_bytes))


def entries(path: Path, stack: contextlib.ExitStack, max_bytes: int,
            parse: Callable[[Member, str], Entry | Skip]) -> Iterator[Entry | Skip]:
    """A format's reading of a zip: each safe member parsed by `parse` (with its path for the report),
    every unsafe one passed on as it is."""
    for member in members(path, stack, max_bytes):
        yield member if isinstance(member, Skip) else parse(member, "/".join(member.parts))


def _loader(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int) -> Callable[[], bytes]:
    def load() -> bytes:
        with archive.open(info) as fh:
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ValueError(f"larger than {max_bytes // 1024**2} MB once unpacked")
        return data
    return load
