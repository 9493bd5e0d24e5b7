"""nbgrader configuration of the course.

Read by nbgrader's own tools (formgrader, CLI) and by `python -m autograder`, which may move the
working folder (`var/`) elsewhere, e.g. for tests, but takes every other setting from here.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # so that nbgrader can load the autograder's preprocessors below
    sys.path.insert(0, HERE)

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = "earth-data-science"
c.CourseDirectory.root = HERE
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
# Everything grading produces lives in one git-ignored working folder.
c.CourseDirectory.submitted_directory = "var/submitted"
c.CourseDirectory.autograded_directory = "var/autograded"
c.CourseDirectory.feedback_directory = "var/feedback"
c.CourseDirectory.solution_directory = "var/solution"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "var", "gradebook.db")
c.Exchange.root = os.path.join(HERE, "var", "exchange")  # unused (no JupyterHub exchange), but writable

# Per-cell limit while grading; the whole-notebook limit is the autograder's (GradingLimits).
c.Execute.timeout = 120
# A finished notebook's kernel is stopped at once rather than asked to shut down and waited for
# (1.3 s of a 7 s submission, benchmarks/RESULTS.md): it holds nothing to save, and the sandbox
# reaps whatever it leaves behind.
c.Execute.shutdown_kernel = "immediate"

# The student's kernel runs in the sandbox (autograder/sandbox/) and is probed for tampering
# before each test cell (autograder/guard.py): nbgrader's Execute, replaced by a subclass of it.
# Then the judge (autograder/judge.py), in this process, scores each test cell from what its hidden
# part observed, against the reference run's observations (source/.expected/): nothing the kernel
# decides counts.
c.Autograde.autograde_preprocessors = [
    "autograder.guard.GuardedExecute",
    "autograder.judge.Judge",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Assignments whose hidden tests still assert in the kernel; they move to observing tests one by one.
c.Judge.unjudged = [
]

# Variants of the data (autograder/variants.py): each student gets one of K draws of an assignment's
# synthetic datasets (roster column `variant`, else a hash of the id) and is judged on it; values that
# match another draw are flagged in the class report.
c.Variants.count = {"01-regression": 8, "03-seismology": 8}
c.Variants.datasets = {"01-regression": ["river"], "03-seismology": ["volcano"]}

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Before nbgrader dedupes and restores test cells, a submission is put back in the course's shape (test
# cells in place and of their type, grading metadata only where the course has it, hidden-test
# markers in a student's text defused), whichever way it is graded (autograder/sanitize.py).
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "autograder.sanitize.RestoreCourseShape",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# A student who deletes a test cell gets it back, as one who edits it does.
c.OverwriteCells.add_missing_cells = True

# Feedback shows the score of each part and the messages written for students, never the hidden
# tests: neither their source, nor the traceback lines that quote it, nor an output of the student's
# code that quotes it.
c.GenerateFeedback.preprocessors = [
    "autograder.feedback_filters.WithholdQuotedTests",
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "autograder.feedback_filters.HideTestTracebacks",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Due dates (21:59 UTC is 23:59 in Paris); the autograder writes them into the gradebook on release.
c.CourseSchedule.due_dates = {
    "00-python-warmup": "2026-09-14 21:59:00 UTC",
    "01-regression": "2026-09-28 21:59:00 UTC",
    "02-classification": "2026-10-12 21:59:00 UTC",
    "03-seismology": "2026-10-26 22:59:00 UTC",
    "04-neural-networks": "2026-11-09 22:59:00 UTC",
    "05-cnn": "2026-11-23 22:59:00 UTC",
    "06-unsupervised": "2026-12-07 22:59:00 UTC",
}

# Late penalty: nbgrader's AssignLatePenalties (run by autograde) with the course's rule, 10 % of the
# score per started day past the due date, capped at the score (autograder/late.py). The penalty is
# stored in the gradebook and shown in the feedback, the class report and the exports.
c.AssignLatePenalties.plugin_class = "autograder.late.PerDayPenalty"
c.PerDayPenalty.fraction_per_day = 0.10

# The class report's similar-answers page (autograder/similarity.py): a pair of submissions is listed
# when this share of one student's own answer code (beyond the release and the reference solution)
# matches the other's; submissions with less code of their own are not compared. A list for a TA,
# never a decision.
c.Similarity.threshold = 0.8
c.Similarity.min_length = 80
