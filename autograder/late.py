"""The course's late rule as an nbgrader late-penalty plugin (nbgrader only offers 'none' and 'zero').

nbgrader's AssignLatePenalties calls the plugin at autograde time with the notebook's score and the
seconds past the due date, and stores the penalty in the gradebook; the export, the feedback and the
report read it from there.
"""
from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

SECONDS_PER_DAY = 86400


def days_late(seconds_late: float) -> int:
    """Started days past the due date: one second late counts as one day."""
    return math.ceil(max(seconds_late, 0) / SECONDS_PER_DAY)


class PerDayPenalty(LateSubmissionPlugin):
    """Removes `fraction_per_day` of the score for every started day late, never more than the score."""

    fraction_per_day = Float(0.1, help="Share of the score lost per started day late").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        return score * min(1.0, self.fraction_per_day * days_late(total_seconds_late))
