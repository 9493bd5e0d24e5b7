"""Feedback for every student: nbgrader's HTML where the notebook ran, a page that says why and what to do
where it did not (notice.py)."""
from __future__ import annotations

from pathlib import Path

import nbgrader
from nbgrader.converters import GenerateFeedback
from nbgrader.utils import capture_log, temp_attrs
from traitlets.config import Config

from . import records
from .course import Course
from .grading import grading_course
from .nbgrader_api import api_for, failure_summary
from .notice import notice_page
from .records import GRADED


TEMPLATES = Path(__file__).resolve().parent / "templates"
NBGRADER_TEMPLATES = Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates"


def feedback_config(course: Course) -> Config:
    """What the course adds to nbgrader_config.py's feedback settings: our summary, maths and template.

    Appended here rather than in nbgrader_config.py because the summary needs this run's working folder.
    """
    cfg = Config()
    cfg.GenerateFeedback.preprocessors = list(course.config().GenerateFeedback.preprocessors) + [
        "autograder.feedback_filters.CapHeavyContent", "autograder.feedback_filters.FeedbackSummary",
        "autograder.feedback_filters.RenderMaths"]
    cfg.FeedbackSummary.workdir = cfg.RenderMaths.workdir = str(course.work)
    cfg.HTMLExporter.template_name = "eds_feedback"
    cfg.HTMLExporter.filters = {"points": "autograder.feedback_filters.points"}
    cfg.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), str(NBGRADER_TEMPLATES)]
    return cfg


def run_nbgrader(course: Course, assignment: str) -> dict:
    """nbgrader's GenerateFeedback, run as NbGraderAPI.generate_feedback does but with our template
    (the API call forces nbgrader's own template, which loads MathJax from a CDN)."""
    api = api_for(course)
    api.update_config(feedback_config(course))
    with temp_attrs(api.coursedir, assignment_id=assignment):
        app = GenerateFeedback(coursedir=api.coursedir, parent=api)
        # after nbgrader's own setting of the search path, so that ours can extend its template
        paths = list(app.config.HTMLExporter.extra_template_paths) + [str(NBGRADER_TEMPLATES)]
        app.update_config(Config({"HTMLExporter": {"extra_template_paths": paths}}))
        app.force = True
        return capture_log(app)


def generate(course: Course, assignment: str) -> Path:
    """Write feedback/<student>/<assignment>/ for every recorded student; returns the folder."""
    course = grading_course(course)
    result = run_nbgrader(course, assignment)
    if not result["success"]:
        print(f"nbgrader feedback reported: {failure_summary(result)}")
    out = course.dir_of("feedback")
    for record in records.load_all(course, assignment):
        if record.status != GRADED:
            page = out / record.student / assignment / f"{assignment}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(notice_page(course, record))
    return out
