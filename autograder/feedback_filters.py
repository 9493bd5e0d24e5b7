"""nbconvert preprocessors for feedback: what a student may read, and nothing that needs the network.

- HideTestTracebacks: nbgrader's ClearHiddenTests removes the hidden region from a test cell's
  source, but the traceback of a failing hidden assertion still quotes the hidden lines. For test
  cells the traceback is replaced by the exception's name and message, which is what the test's
  author wrote for students.
- FeedbackSummary: the first line of the page (autograded score, written points pending, late
  penalty with its rule, due date and submission time) and the table under it (score, message and
  misconception of each part, the grader's notes), handed to the template in `resources["eds"]`.
- CapHeavyContent: what a student's cells hold is rendered by nbconvert's markdown parser and HTML
  filters, some of which take quadratic time on deep nesting (50 s for one student's page once, for
  20 000 nested <div>s or '[' in an answer): a markdown cell or a rich output (HTML, markdown, LaTeX)
  heavier than the caps below is shown as plain text, its first SHOWN_CHARS, with a line saying why.
- RenderMaths: nbgrader's template typesets maths with MathJax from a CDN, which a student reading
  the page offline never gets; the maths of markdown cells is drawn by matplotlib's mathtext instead.
  Drawing costs 0.03-0.2 s a formula: the assignment's own formulas are always drawn (and drawn once
  per run: the images are cached), a student's own at most MAX_OWN_FORMULAS per notebook, none longer
  than MAX_TEX characters or nested deeper than MAX_BRACES; the rest are shown as TeX.
"""
from __future__ import annotations

import base64
import functools
import html
import io
import json
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


# Beyond these a student's markdown or rich output is shown as plain text: its length, and the
# characters that open a nested or parsed construct (tags, links, emphasis, quotes, maths, groups).
# The course's own cells stay far below (the most in a release cell: 365 of them).
MAX_CHARS = 100_000
MAX_MARKUP = 2_000
MARKUP = "<>[]*_`$\\{}"
SHOWN_CHARS = 2_000   # of a heavy text: nbconvert's link filters are quadratic in its "["s
RICH = ("text/html", "text/markdown", "text/latex", "image/svg+xml")
HEAVY_NOTE = ("[shown as plain text: it holds more markup, maths or nesting than the feedback page draws "
              "({what})]")


def heaviness(text: str) -> str:
    """Why `text` is too heavy to render ('' if it is not)."""
    if len(text) > MAX_CHARS:
        return f"{len(text)} characters"
    markup = sum(text.count(c) for c in MARKUP)
    return f"{markup} markup characters" if markup > MAX_MARKUP else ""


def as_plain_markdown(text: str, why: str) -> str:
    """`text` as one fenced block of plain text (cut at SHOWN_CHARS), after the line that says why."""
    shown = text[:SHOWN_CHARS] + ("\n..." if len(text) > SHOWN_CHARS else "")
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", shown)), default=0))
    return f"*{HEAVY_NOTE.format(what=why)}*\n\n{fence}text\n{shown}\n{fence}\n"


class CapHeavyContent(FeedbackPreprocessor):
    """Markdown cells and rich outputs too heavy to render become plain text (before RenderMaths)."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            why = heaviness(cell.source)
            if why:
                cell.source = as_plain_markdown(cell.source, why)
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            for mime in [m for m in RICH if m in data]:
                text = data[mime] if isinstance(data[mime], str) else json.dumps(data[mime])
                why = heaviness(text)
                if why:
                    del data[mime]
                    plain = data.get("text/plain") or text
                    data["text/plain"] = (HEAVY_NOTE.format(what=f"a {mime} output of {why}") + "\n"
                                          + plain[:SHOWN_CHARS])
        return cell, resources


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


MAX_OWN_FORMULAS = 60   # a student's own formulas drawn per notebook; the assignment's are always drawn
MAX_TEX = 600           # characters of one formula (the course's longest: under 300)
MAX_BRACES = 12         # {} nesting of one formula (mathtext's time grows with it)


def braces(tex: str) -> int:
    depth = deepest = 0
    for char in tex:
        depth += (char == "{") - (char == "}")
        deepest = max(deepest, depth)
    return deepest


def as_code(tex: str) -> str:
    return f"<code>{html.escape(tex)}</code>"


@functools.lru_cache(maxsize=4096)   # the assignment's formulas, drawn once per run, not once per student
def formula_image(tex: str, style: str) -> str:
    """An <img> of one formula drawn by mathtext, or the TeX in <code> if mathtext cannot parse it."""
    from matplotlib import mathtext

    if not tex.strip():
        return ""
    buffer = io.BytesIO()
    try:
        mathtext.math_to_image(f"${mathtext_tex(tex)}$", buffer, format="svg", prop=None)
    except (ValueError, RuntimeError):
        return as_code(tex)
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


def render_maths(markdown: str, draws=lambda tex: True) -> str:
    """`markdown` with its maths drawn, each formula for which `draws` says yes; the others as TeX."""
    def replace(match: re.Match) -> str:
        if match.group(1):
            return match.group(0)
        display = match.group(2) is not None
        tex = match.group(2) if display else match.group(3)
        return tex_image(tex, display) if draws(tex) else as_code(tex)
    return MATH.sub(replace, markdown)


def formulas(markdown: str) -> set[str]:
    return {m.group(2) if m.group(2) is not None else m.group(3) for m in MATH.finditer(markdown) if not m.group(1)}


@functools.lru_cache(maxsize=64)
def assignment_formulas(release_notebook: str) -> frozenset:
    """The formulas of the assignment's own notebook as released (none if it cannot be read)."""
    try:
        cells = json.loads(Path(release_notebook).read_text())["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()
    return frozenset(tex for cell in cells if cell.get("cell_type") == "markdown"
                     for tex in formulas("".join(cell.get("source", ""))))


class RenderMaths(FeedbackPreprocessor):
    """Draws the maths of markdown cells; what the student wrote within the caps (module docstring)."""

    workdir = Unicode("", help="The course's working folder, where the released notebooks are").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        release = Path(self.workdir) / "release" / str(info.get("assignment")) / f"{info.get('notebook')}.ipynb"
        known = assignment_formulas(str(release)) if self.workdir else frozenset()
        budget = [MAX_OWN_FORMULAS]

        def draws(tex: str) -> bool:
            if tex in known:
                return True
            if budget[0] <= 0 or len(tex) > MAX_TEX or braces(tex) > MAX_BRACES:
                return False
            budget[0] -= 1
            return True

        for cell in nb.cells:
            if cell.cell_type == "markdown" and "$" in cell.source:
                cell.source = render_maths(cell.source, draws)
        return nb, resources
