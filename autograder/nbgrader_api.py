"""One place that builds nbgrader's API objects for a Course."""
from __future__ import annotations

import logging
import os
import re
import sys
from typing import TYPE_CHECKING

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from .course import Course

if TYPE_CHECKING:
    from .sandbox.policy import Policy


def _prepare(course: Course) -> None:
    """nbgrader runs `alembic` from PATH to create a gradebook: make it the one beside this Python."""
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    course.work.mkdir(parents=True, exist_ok=True)


def api_for(course: Course, policy: Policy | None = None) -> NbGraderAPI:
    """nbgrader's API on `course`; its kernels get `policy` if given (`grade`: one uid per
    submission), else GuardedExecute builds the course's own."""
    _prepare(course)
    cfg = course.config()
    if policy is not None:
        cfg.GuardedExecute.policy = policy
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    api.log.setLevel(logging.WARNING)
    return api


def gradebook_for(course: Course) -> Gradebook:
    _prepare(course)
    cd = course.config().CourseDirectory
    return Gradebook(cd.db_url, cd.course_id)


ERROR_LINE = re.compile(r"^[\w.]*(Error|Exception|Exit|Interrupt)\b.*")


def failure_summary(result: dict) -> str:
    """The last meaningful line of a failed nbgrader call, for a one-line message."""
    lines = f"{result.get('log', '')}\n{result.get('error', '')}".splitlines()
    errors = [line.strip() for line in lines
              if ERROR_LINE.match(line.strip()) and "NbGraderException" not in line]
    return errors[-1] if errors else "unknown nbgrader error"
