"""nbconvert preprocessors for feedback: what a student may read, and nothing that needs the network.

- HideTestTracebacks: nbgrader's ClearHiddenTests removes the hidden region from a test cell's
  source, but the traceback of a failing hidden assertion still quotes the hidden lines. For test
  cells the traceback is replaced by the exception's name and message, which is what the test's
  author wrote for students.
- FeedbackSummary: the first line of the page (autograded score, written points pending, late
  penalty with its rule, due date and submission time) and the table under it (score, message and
  misconception of each part, the grader's notes), handed to the template in `resources["eds"]`.
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
from .late import PerDayPenalty, days_late
from .notebooks import HIDDEN_MARKERS, grade_id, is_manual, is_test, meta, region
from .parts import part_names

HINT_PREFIX = "Misconception:"


def points(value) -> str:
    """A score as a person writes it: 12.2, not 12.200000000000001; 3, not 3.0 (a Jinja filter of
    the feedback and the report)."""
    return f"{round(float(value or 0), 2):g}"


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


# A hidden-test line this long or longer, quoted in an output, means the output quotes the tests.
QUOTED_LINE = 12


def output_strings(output: dict) -> list[str]:
    """Every text an output carries: its stream, each of its representations, its error."""
    found = [output.get("text", ""), output.get("evalue", ""), *output.get("traceback", [])]
    for value in output.get("data", {}).values():
        found += value if isinstance(value, list) else [value if isinstance(value, str) else ""]
    return [str(text) for text in found]


class WithholdQuotedTests(FeedbackPreprocessor):
    """The hidden tests run in the student's kernel, so the student's code can watch them being
    compiled (an audit hook does) and print them in a later cell. Before ClearHiddenTests removes
    them from the test cells, every output of another cell that quotes a line of them is withheld."""

    def preprocess(self, nb, resources):
        hidden = {line.strip() for cell in nb.cells if cell.cell_type == "code" and is_test(cell)
                  for line in region(cell.source, HIDDEN_MARKERS) if len(line.strip()) >= QUOTED_LINE}
        for cell in nb.cells:
            if cell.cell_type == "code" and not is_test(cell) and hidden:
                cell.outputs = [WITHHELD if any(line in text for text in output_strings(output) for line in hidden)
                                else output for output in cell.get("outputs", [])]
        return nb, resources


WITHHELD = {"output_type": "stream", "name": "stdout",
            "text": "[output withheld from the feedback: it quotes the hidden tests]\n"}


class HideTestTracebacks(FeedbackPreprocessor):
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and is_test(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


def part_summary(cell, pending: set[str], name: str) -> dict:
    """One row of the summary table; run after nbgrader's GetGrades, which puts the scores in the cell."""
    m = meta(cell)
    message, hint = split_hint(test_failure(cell)) if is_test(cell) else ("", "")
    kind = "written answer, graded by a TA" if is_manual(cell) else "test"
    return {"id": grade_id(cell), "name": name, "kind": kind, "manual": is_manual(cell), "score": m.get("score"),
            "points": m.get("points"), "pending": grade_id(cell) in pending, "message": message, "hint": hint,
            "comment": m.get("comment") or ""}


def total(parts: list[dict], key: str) -> float:
    return sum(float(p[key] or 0) for p in parts)


def headline(parts: list[dict], late: dict) -> dict:
    """The figures of the page's first line: what the tests gave, what a TA still grades, what
    lateness took, and the score so far, so that no later line contradicts it."""
    tests = [p for p in parts if not p["manual"]]
    written = [p for p in parts if p["manual"] and not p["pending"]]
    pending = [p for p in parts if p["pending"]]
    scored = total(tests, "score") + total(written, "score")
    return {"tests": total(tests, "score"), "tests_max": total(tests, "points"),
            "written": total(written, "score"), "written_max": total(written, "points"),
            "pending": total(pending, "points"), "max": total(parts, "points"),
            "so_far": scored - late["penalty"]}


def stamp(moment) -> str | None:
    """A gradebook time (naive, UTC) as the course writes due dates."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else None


def lateness(submission, penalty: float, config) -> dict:
    """Days late, penalty, the rule that gave it, the due date and the time of the submission."""
    fraction = PerDayPenalty(config=config).fraction_per_day
    return {"days": days_late(submission.total_seconds_late), "penalty": float(penalty or 0),
            "rule": f"{100 * fraction:g} % of the score per started day late, never more than the score",
            "due": stamp(submission.duedate), "submitted": stamp(submission.timestamp)}


class FeedbackSummary(FeedbackPreprocessor):
    """Collects the headline, the parts, the grader's notes and the lateness into resources['eds']."""

    workdir = Unicode("", help="The course's working folder, where the grading records are").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        student, assignment = info.get("student"), info.get("assignment")
        record = records.load(Course(workdir=Path(self.workdir)), assignment, student) if self.workdir else None
        with Gradebook(info["db_url"]) as gb:
            submission = gb.find_submission(assignment, student)
            late = lateness(submission, info.get("late_penalty"), self.config)
            pending = {g.name for n in submission.notebooks for g in n.grades if g.needs_manual_grade}
        names = part_names(nb)
        parts = [part_summary(c, pending, names[grade_id(c)]) for c in nb.cells if meta(c).get("grade")]
        resources["eds"] = {
            "parts": parts, "pending": pending, "late": late, "headline": headline(parts, late),
            "notes": ([record.reason] if record and record.reason else []) + (record.notes if record else []),
        }
        return nb, resources


# A code span (kept as is), display maths $$...$$, or inline maths $...$ ( \$ is a dollar sign).
MATH = re.compile(r"(`+)(?:.+?)\1|(?<!\\)\$\$(.+?)\$\$|(?<![\\$])\$(?!\s)([^$\n]+?)(?<![\s\\])\$", re.S)


# What mathtext does not know, rewritten to what it does (or dropped where it only sizes a bracket).
TEX_REWRITES = [
    (re.compile(r"\\(le|ge)(?![a-zA-Z])"), r"\\\1q"),
    (re.compile(r"\\[td]frac(?![a-zA-Z])"), r"\\frac"),
    (re.compile(r"\\frac\s*([A-Za-z0-9])"), r"\\frac{\1}"),             # \frac1n -> \frac{1}n
    (re.compile(r"(\\frac\{[^{}]*\})\s*([A-Za-z0-9])"), r"\1{\2}"),     # -> \frac{1}{n}
    (re.compile(r"\\sqrt\s+([A-Za-z0-9])"), r"\\sqrt{\1}"),
    (re.compile(r"\\(?:[Bb]igg?[lr]?|textstyle|displaystyle)(?![a-zA-Z])\s*"), ""),
    (re.compile(r"\s*\n\s*"), " "),
]
MATRIX = re.compile(r"\\begin\{[pbv]?matrix\}(.*?)\\end\{[pbv]?matrix\}", re.S)


def mathtext_tex(tex: str) -> str:
    for pattern, replacement in TEX_REWRITES:
        tex = pattern.sub(replacement, tex)
    return tex.strip()


def formula_image(tex: str, style: str) -> str:
    """An <img> of one formula drawn by mathtext, or the TeX in <code> if mathtext cannot parse it."""
    from matplotlib import mathtext

    if not tex.strip():
        return ""
    buffer = io.BytesIO()
    try:
        mathtext.math_to_image(f"${mathtext_tex(tex)}$", buffer, format="svg", prop=None)
    except (ValueError, RuntimeError):
        return f"<code>{html.escape(tex)}</code>"
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<img class="eds-math" style="{style}" alt="{html.escape(tex.strip(), quote=True)}" '
            f'src="data:image/svg+xml;base64,{data}">')


def matrix_html(body: str) -> str:
    """A matrix, which mathtext cannot draw, as a grid of formulas between drawn brackets; made of
    spans styled as a table, as a <table> would end the paragraph the formula sits in."""
    rows = [row.split("&") for row in re.split(r"\\\\", body) if row.strip()]
    grid = "".join('<span class="eds-row">' + "".join(
        f'<span class="eds-cell">{formula_image(c, "vertical-align:middle")}</span>' for c in row) + "</span>"
        for row in rows)
    return f'<span class="eds-matrix">{grid}</span>'


def tex_image(tex: str, display: bool) -> str:
    """The formula as images: one per stretch of maths, a grid for each matrix."""
    style = "vertical-align:middle"
    pieces = MATRIX.split(tex)   # text, matrix body, text, ...
    html_pieces = [matrix_html(p) if i % 2 else formula_image(p, style) for i, p in enumerate(pieces)]
    joined = "".join(html_pieces)
    return f'<span class="eds-display">{joined}</span>' if display else joined


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
