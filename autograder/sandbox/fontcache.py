"""matplotlib's font list, built once by the grader and copied into each kernel's empty home.

Every kernel gets a new, empty home, so matplotlib scanned the machine's fonts and rebuilt its font
list on the first `import matplotlib.pyplot` of every submission: 0.2-0.5 s each (benchmarks/
RESULTS.md). The list depends only on the installed fonts and matplotlib, not on the student, so
the grader builds it once, in a folder only the grader can write, and each kernel gets its own copy.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BUILD_TIMEOUT = 120   # a ceiling on one scan of the machine's fonts


def folder() -> Path:
    """The grader's cache: private to its uid (root's under /run, another user's under the tmp dir)."""
    base = Path("/run") if os.geteuid() == 0 else Path(tempfile.gettempdir())
    return base / f"eds-fontcache-{os.geteuid()}"


def _trusted(path: Path) -> bool:
    info = path.lstat()
    return path.is_dir() and not path.is_symlink() and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def font_lists() -> list[Path]:
    """The cached font lists, built now if there are none (empty if the cache cannot be trusted)."""
    cache = folder()
    cache.mkdir(mode=0o755, exist_ok=True)
    if not _trusted(cache):
        return []
    if not list(cache.glob("fontlist-*.json")):
        scratch = Path(tempfile.mkdtemp(prefix="build-", dir=cache))
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], capture_output=True,
                       env={**os.environ, "MPLCONFIGDIR": str(scratch)}, timeout=BUILD_TIMEOUT, check=False)
        for built in scratch.glob("fontlist-*.json"):
            os.replace(built, cache / built.name)   # atomic: a kernel starting meanwhile sees all or nothing
        shutil.rmtree(scratch, ignore_errors=True)
    return sorted(cache.glob("fontlist-*.json"))


def seed(config_dir: Path, uid: int | None) -> None:
    """Copy the font lists into a kernel's matplotlib folder, owned by the kernel's uid if it has one."""
    lists = font_lists()
    if not lists:
        return
    config_dir.mkdir(mode=0o700, exist_ok=True)
    for source in lists:
        shutil.copyfile(source, config_dir / source.name)
    if uid is not None:
        for path in (config_dir, *config_dir.iterdir()):
            os.chown(path, uid, uid)
