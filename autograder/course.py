"""Where the course lives, and the nbgrader configuration that points at it."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from traitlets.config import Config, PyFileConfigLoader

if TYPE_CHECKING:
    from nbgrader.coursedir import CourseDirectory

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT_NAME = re.compile(r"^\d\d-[a-z0-9-]+$")
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class CourseError(Exception):
    """A mistake in what the user asked for: reported in one line, exit status 2."""


_LOADED: dict[Path, tuple[tuple[int, int], Config]] = {}


def load_config(root: Path) -> Config:
    """A course's nbgrader_config.py, executed once per process while the file is unchanged.

    Every step of a run asks for the configuration; executing the file each time cost about fifteen
    loads per run. The file's modification time and size are the key, so that a configuration written
    since (a test's, an instructor's edit between two runs of a server) is read again. Each caller
    gets a copy of its own to change.
    """
    path = root / "nbgrader_config.py"
    info = path.stat()
    stamp = (info.st_mtime_ns, info.st_size)
    if _LOADED.get(path, (None,))[0] != stamp:
        _LOADED[path] = (stamp, PyFileConfigLoader(path.name, path=str(root)).load_config())
    return copy.deepcopy(_LOADED[path][1])


@dataclass(frozen=True)
class Course:
    """The course folders, with the working folder and the release folder movable.

    Tests and the demo grade into a working folder of their own so that they never touch an
    instructor's gradebook; nbgrader_config.py stays the single source of every other setting.
    """

    root: Path = REPO
    workdir: Path | None = None
    release: Path | None = None
    db_url: str | None = None

    @classmethod
    def of_nbgrader(cls, course_directory: CourseDirectory) -> Course:
        """The course nbgrader's own tools (formgrader, `nbgrader autograde`) were configured with:
        its working folder is the one that holds autograded/."""
        root = Path(course_directory.root)
        return cls(root=root, workdir=(root / course_directory.autograded_directory).parent)

    @property
    def source_dir(self) -> Path:
        return self.root / "source"

    @property
    def release_dir(self) -> Path:
        return self.release or self.root / "release"

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def work(self) -> Path:
        return self.workdir or self.root / "var"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def assignments(self) -> list[str]:
        """Every assignment in source/, in course order."""
        return sorted(p.name for p in self.source_dir.iterdir()
                      if p.is_dir() and ASSIGNMENT_NAME.match(p.name))

    def check_assignment(self, name: str) -> str:
        if name not in self.assignments():
            known = ", ".join(self.assignments()) or "none"
            raise CourseError(f"unknown assignment {name!r} (known: {known})")
        return name

    def notebook_names(self, assignment: str) -> list[str]:
        """The notebooks a submission of this assignment must contain."""
        return sorted(p.name for p in (self.source_dir / assignment).glob("*.ipynb"))

    def config(self) -> Config:
        """nbgrader_config.py, with the working and release folders put where this Course says."""
        cfg = load_config(self.root)
        cd = cfg.CourseDirectory
        cd.root = str(self.root)
        cd.release_directory = str(self.release_dir)
        if self.workdir is not None:
            for trait in ("submitted_directory", "autograded_directory",
                          "feedback_directory", "solution_directory"):
                cd[trait] = str(self.workdir / Path(cd[trait]).name)
            cd.db_url = f"sqlite:///{self.workdir / 'gradebook.db'}"
        if self.db_url:
            cd.db_url = self.db_url
        return cfg

    def dir_of(self, step: str) -> Path:
        """The folder nbgrader uses for a step: 'submitted', 'autograded' or 'feedback'."""
        return Path(self.root, self.config().CourseDirectory[f"{step}_directory"])
