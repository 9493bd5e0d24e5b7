"""Due dates of the course, read from nbgrader_config.py (`c.CourseSchedule.due_dates`)."""
from __future__ import annotations

from traitlets import Dict, Unicode
from traitlets.config import Config, Configurable


class CourseSchedule(Configurable):
    """nbgrader keeps a due date per assignment in its gradebook; this is where they are written."""

    due_dates = Dict(
        value_trait=Unicode(),
        help="Due date of each assignment, e.g. {'01-regression': '2026-09-28 21:59:00 UTC'}",
    ).tag(config=True)


def due_date(config: Config, assignment: str) -> str | None:
    return CourseSchedule(config=config).due_dates.get(assignment)
