"""The sandbox's policy, built once from the course's configuration and then passed as a value.

`grade` builds it once per run and hands each worker a copy with the submission's own uid; nbgrader's
own autograde (`nbgrader autograde`, the formgrader's button) has no such run, so GuardedExecute
builds the same policy from the same configuration, with a uid of its process's own. Either way,
every kernel gets the same limits, secrets, environment and layers.
"""
from __future__ import annotations

import dataclasses
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

from ..course import Course, CourseError
from .environment import KernelEnvironment
from .layers import available_layers
from .processes import job_uid


@dataclass(frozen=True)
class GradingLimits:
    """What one notebook may use (set them in nbgrader_config.py as c.GradingLimits.<name>)."""

    memory_bytes: int = 6 * 1024**3          # address space of the kernel
    processes: int = 256                     # processes and threads of the sandbox uid (no fork bomb)
    file_bytes: int = 256 * 1024**2          # largest file the kernel may write
    cpu_seconds: int = 900                   # CPU time of the kernel
    open_files: int = 1024
    notebook_seconds: int = 900              # wall-clock time to grade one submission
    submission_bytes: int = 50 * 1024**2     # largest notebook accepted
    # What the kernel may write in all, each place a size-capped tmpfs in its view (view.py): its
    # working copy (the notebook and the assignment's files count), its home, its /tmp.
    workcopy_bytes: int = 512 * 1024**2
    home_bytes: int = 256 * 1024**2
    tmp_bytes: int = 256 * 1024**2

    @classmethod
    def from_config(cls, config: Config) -> GradingLimits:
        """The limits set in `config`, the others at their default; a name that is no limit is a
        mistake to report, not a limit silently left at its default."""
        given = dict(config.GradingLimits) if "GradingLimits" in config else {}
        unknown = sorted(set(given) - {field.name for field in dataclasses.fields(cls)})
        if unknown:
            raise CourseError(f"unknown grading limits {unknown} in nbgrader_config.py")
        return cls(**{name: int(value) for name, value in given.items()})


@dataclass(frozen=True)
class SecretPaths:
    """What no kernel may read: the sources and solutions (hidden tests in both), the course's tests
    and history, the gradebook, every submission and what grading made of it. `traversable` folders
    (the working folder, autograded/) may be crossed to reach a working copy, not listed."""

    folders: tuple[Path, ...]
    files: tuple[Path, ...]
    traversable: tuple[Path, ...]

    @classmethod
    def of(cls, course: Course) -> SecretPaths:
        work = course.work
        folders = (course.source_dir, course.solutions_dir, course.root / "tests", course.dir_of("submitted"),
                   course.dir_of("feedback"), work / "records", work / "logs", work / "release")
        return cls(folders=folders + tuple(git_folders(course.root)), files=(work / "gradebook.db",),
                   traversable=(work, course.dir_of("autograded")))


def git_folders(root: Path) -> list[Path]:
    """The course's history (solutions in every commit): .git, and, in a worktree where .git is a
    file, the folders it points to."""
    dot = root / ".git"
    if not dot.exists():
        return []
    if not shutil.which("git"):
        return [dot]
    named = subprocess.run(["git", "-C", str(root), "rev-parse", "--absolute-git-dir", "--git-common-dir"],
                           capture_output=True, text=True)
    return [dot] + ([root / line for line in named.stdout.split("\n") if line] if named.returncode == 0 else [])


@dataclass(frozen=True)
class Policy:
    """Everything the sandbox decides about a kernel: its limits, the secrets kept from it, its
    environment, the layers this machine sets around it, the course data it reads and its uid."""

    limits: GradingLimits
    secrets: SecretPaths
    environment: KernelEnvironment
    layers: tuple[str, ...]
    data_dir: Path
    uid: int

    @classmethod
    def of(cls, course: Course) -> Policy:
        """The policy of `course`'s configuration, with a uid of this process's own (nbgrader's
        autograde, the formgrader's included, grades one notebook at a time)."""
        return cls(limits=GradingLimits.from_config(course.config()), secrets=SecretPaths.of(course),
                   environment=KernelEnvironment.of(course.data_dir), layers=available_layers(),
                   data_dir=course.data_dir, uid=job_uid(0))

    def for_submission(self, uid: int) -> Policy:
        """The same policy for a kernel that runs under a uid of its submission's own."""
        return dataclasses.replace(self, uid=uid)

    def with_data(self, data_dir: Path) -> Policy:
        """The same policy for a kernel that reads `data_dir` (a student's variant of the data)."""
        return dataclasses.replace(self, data_dir=data_dir, environment=KernelEnvironment.of(data_dir))
