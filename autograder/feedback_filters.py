"""nbconvert preprocessors for feedback: what a student may read, and nothing that needs the network.

- HideTestTracebacks: nbgrader's ClearHiddenTests removes the hidden region from a test cell's
  source, but the traceback of a failing hidden assertion still quotes the hidden lines. For test
  cells the traceback is replaced by the exception's name and message, which is what the test's
  author wrote for students.
- FeedbackSummary: the table at the top of the page (score, message and misconception of each part,
  the grader's notes, lateness), handed to the template in `resources["eds"]`.
- RenderMaths: nbgrader's template typesets maths with MathJax from a CDN, which a student reading
  the page offline never gets; the maths of markdown cells is drawn by matplotlib's mathtext instead.
"""
from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from nbgrader.api import Gradebook
from traitlets import Bool, Unicode

from . import records
from .course import Course
from .late import days_late
from .notebooks import grade_id, is_manual, is_test, meta

HINT_PREFIX = "Misconception:"


def split_hint(text: str) -> tuple[str, str]:
    """A test's message without its `Misconception: ...` line, and that line's hint ('' if none)."""
    lines = text.strip().splitlines()
    hints = [line.strip()[len(HINT_PREFIX):].strip() for line in lines if line.strip().startswith(HINT_PREFIX)]
    message = "\n".join(line for line in lines if not line.strip().startswith(HINT_PREFIX)).strip()
    return message, hints[0] if hints else ""


def test_failure(cell) -> str:
    """Why a graded test cell lost its points, in the words written for students ('' if it did not).

    nbgrader fails a test cell on an error output and on any stderr output; both are covered.
    """
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', 'Error')}: {output.get('evalue') or '(no message)'}"
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            first = (output.get("text") or "").strip().splitlines()[:1]
            return "the test wrote to stderr, which counts as a failure" + (f": {first[0]}" if first else "")
    return ""


class FeedbackPreprocessor(Preprocessor):
    """On by default: nbgrader registers the configured preprocessors without enabling them, and an
    nbconvert preprocessor that is not enabled silently does nothing."""

    enabled = Bool(True).tag(config=True)


class HideTestTracebacks(FeedbackPreprocessor):
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and is_test(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


def part_summary(cell, pending: set[str]) -> dict:
    """One row of the summary table; run after nbgrader's GetGrades, which puts the scores in the cell."""
    m = meta(cell)
    message, hint = split_hint(test_failure(cell)) if is_test(cell) else ("", "")
    kind = "written answer, graded by a TA" if is_manual(cell) else "test"
    return {"id": grade_id(cell), "kind": kind, "score": m.get("score"), "points": m.get("points"),
            "pending": grade_id(cell) in pending, "message": message, "hint": hint}


class FeedbackSummary(FeedbackPreprocessor):
    """Collects the parts, the grader's notes and the lateness into resources['eds'] for the template."""

    workdir = Unicode("", help="The course's working folder, where the grading records are").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        student, assignment = info.get("student"), info.get("assignment")
        record = records.load(Course(workdir=Path(self.workdir)), assignment, student) if self.workdir else None
        with Gradebook(info["db_url"]) as gb:
            submission = gb.find_submission(assignment, student)
            seconds_late = submission.total_seconds_late
            pending = {g.name for n in submission.notebooks for g in n.grades if g.needs_manual_grade}
        resources["eds"] = {
            "parts": [part_summary(c, pending) for c in nb.cells if meta(c).get("grade")],
            "notes": ([record.reason] if record and record.reason else []) + (record.notes if record else []),
            "days_late": days_late(seconds_late),
            "late_penalty": info.get("late_penalty") or 0,
        }
        return nb, resources


# A code span (kept as is), display maths $$...$$, or inline maths $...$ ( \$ is a dollar sign).
MATH = re.compile(r"(`+)(?:.+?)\1|(?<!\\)\$\$(.+?)\$\$|(?<![\\$])\$(?!\s)([^$\n]+?)(?<![\s\\])\$", re.S)


def tex_image(tex: str, display: bool) -> str:
    """An <img> of the formula drawn by mathtext, or the TeX in <code> if mathtext cannot parse it."""
    from matplotlib import mathtext

    buffer = io.BytesIO()
    try:
        mathtext.math_to_image(f"${tex.strip()}$", buffer, format="svg", prop=None)
    except (ValueError, RuntimeError):
        return f"<code>{html.escape(tex)}</code>"
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    style = "display:block;margin:0.5em auto" if display else "vertical-align:middle"
    return (f'<img class="eds-math" style="{style}" alt="{html.escape(tex.strip(), quote=True)}" '
            f'src="data:image/svg+xml;base64,{data}">')


def render_maths(markdown: str) -> str:
    def replace(match: re.Match) -> str:
        if match.group(1):
            return match.group(0)
        display = match.group(2) is not None
        return tex_image(match.group(2) if display else match.group(3), display)
    return MATH.sub(replace, markdown)


class RenderMaths(FeedbackPreprocessor):
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and "$" in cell.source:
            cell.source = render_maths(cell.source)
        return cell, resources
