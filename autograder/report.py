"""The class report: one static HTML page per assignment and a course page, readable from disk.

What a TA opens first: how the class scored, which parts failed and why (the most frequent test
messages and misconceptions), who waits for manual grading, who was late, how long grading took.
Figures are matplotlib PNGs embedded in the page, so the folder can be mailed or opened offline.
"""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import matplotlib
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import export
from . import notebooks as nbs
from .course import Course
from .feedback_filters import split_hint, test_failure
from .grading import grading_course
from .nbgrader_api import gradebook_for

matplotlib.use("agg")
from matplotlib import pyplot as plt  # noqa: E402 (after choosing the file-only backend)

PLANTED = "planted.json"   # in the working folder: see record_planted

TEMPLATES = Path(__file__).resolve().parent / "templates" / "report"
FINAL = {export.records.GRADED}          # scores that are final grades
TOP_MESSAGES = 3


def test_cells(course: Course, assignment: str) -> dict[str, float]:
    """grade_id -> points of every autograded test cell, in notebook order."""
    return {nbs.grade_id(c): nbs.meta(c)["points"] for name in course.notebook_names(assignment)
            for c in nbs.read(course.source_dir / assignment / name).cells if nbs.is_test(c)}


def outcomes(course: Course, assignment: str, student: str) -> dict[str, tuple[str, str]]:
    """grade_id -> (failure message, misconception hint) from the student's autograded notebooks."""
    folder = grading_course(course).dir_of("autograded") / student / assignment
    found = {}
    for path in sorted(folder.glob("*.ipynb")):
        for cell in nbs.read(path).cells:
            if nbs.is_test(cell):
                found[nbs.grade_id(cell)] = split_hint(test_failure(cell))
    return found


def parts_table(course: Course, assignment: str, students: list[str]) -> pd.DataFrame:
    """One row per (submission, test cell): score, passed, message, hint. Rejected notebooks fail all."""
    points = test_cells(course, assignment)
    rows = []
    with gradebook_for(course) as gb:
        for student in students:
            grades = {g.name: float(g.score) for n in gb.find_submission(assignment, student).notebooks
                      for g in n.grades}
            said = outcomes(course, assignment, student)
            for part, full in points.items():
                message, hint = said.get(part, ("", ""))
                score = grades.get(part, 0.0)
                rows.append({"student": student, "part": part, "points": full, "score": score,
                             "passed": score >= full, "message": message if score < full else "", "hint": hint})
    return pd.DataFrame(rows, columns=["student", "part", "points", "score", "passed", "message", "hint"])


def png(fig) -> str:
    """The figure as a base64 PNG for an <img src="data:...">; the figure is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def score_figure(subs: pd.DataFrame) -> str:
    """Final scores, and apart from them the autograded part of the submissions still pending."""
    fig, ax = plt.subplots(figsize=(6, 3))
    top = float(subs["max_score"].max())
    final = subs[subs["status"].isin(FINAL | {export.records.REJECTED, export.records.FAILED})]["score"]
    pending = subs[subs["status"] == export.PENDING]["score"]
    ax.hist([final, pending], bins=min(20, max(int(top), 1)), range=(0, top), stacked=True,
            label=["final score", "autograded part, manual grading pending"], color=["#3b75af", "#b9c9dc"])
    ax.set(xlabel="score (after late penalty)", ylabel="submissions", title="Score distribution")
    ax.legend(fontsize="small")
    return png(fig)


def pass_rate_figure(parts: pd.DataFrame) -> str:
    rates = parts.groupby("part", sort=False)["passed"].mean() * 100
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(rates) + 1))
    ax.barh(rates.index[::-1], rates.values[::-1], color="#4c9a5b")
    ax.set(xlim=(0, 100), xlabel="% of submissions with full marks", title="Pass rate of each part")
    return png(fig)


def timing_figure(subs: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(subs) + 1))
    colours = subs["status"].map({"rejected": "#999999", "failed": "#c0392b"}).fillna("#3b75af")
    ax.barh(subs["student"][::-1], subs["seconds"].fillna(0)[::-1], color=colours[::-1])
    ax.set(xlabel="seconds (grey: rejected before running, red: failed)", title="Grading time per submission")
    return png(fig)


def part_summary(parts: pd.DataFrame, n: int) -> list[dict]:
    """Per part: pass rate, most frequent failure messages and misconceptions, as shares of the class."""
    summary = []
    for part, rows in parts.groupby("part", sort=False):
        messages = rows[rows["message"] != ""]["message"].value_counts().head(TOP_MESSAGES)
        hints = rows[rows["hint"] != ""]["hint"].value_counts()
        summary.append({"part": part, "points": rows["points"].iloc[0], "pass_rate": 100 * rows["passed"].mean(),
                        "messages": list(messages.items()),
                        "misconceptions": [(hint, count, 100 * count / n) for hint, count in hints.items()]})
    return summary


def record_planted(course: Course, planted: dict[str, dict[str, list[str]]]) -> None:
    """Keep, per assignment and student, the misconceptions a known submission carries (the demo's
    sample class), so that the report can say how many of them the feedback named."""
    (course.work / PLANTED).write_text(json.dumps(planted, indent=1))


def planted_named(course: Course, assignment: str, parts: pd.DataFrame) -> dict | None:
    """Of the misconceptions planted in known submissions (the demo's), the share the feedback named."""
    path = course.work / PLANTED
    planted = json.loads(path.read_text()).get(assignment, {}) if path.exists() else {}
    graded = set(parts["student"])
    pairs = [(student, hint) for student, hints in planted.items() if student in graded for hint in hints]
    if not pairs:
        return None
    named = {(student, hint) for student, hint in zip(parts["student"], parts["hint"]) if hint}
    missed = [pair for pair in pairs if pair not in named]
    return {"total": len(pairs), "named": len(pairs) - len(missed), "missed": missed}


def environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))


def assignment_page(course: Course, assignment: str, out: Path) -> dict:
    """Write out/<assignment>.html; returns the figures of the course page's row for it."""
    subs = export.submission_table(course, assignment)
    context = {"assignment": assignment, "subs": subs, "n": len(subs)}
    if len(subs):
        parts = parts_table(course, assignment, list(subs["student"]))
        final = subs[subs["status"] != export.PENDING]
        context |= {
            "figures": {"scores": score_figure(subs), "pass_rates": pass_rate_figure(parts),
                        "timing": timing_figure(subs)},
            "parts": part_summary(parts, len(subs)),
            "planted": planted_named(course, assignment, parts),
            "pending": subs[subs["status"] == export.PENDING],
            "late": subs[subs["days_late"] > 0],
            "not_graded": subs[subs["status"].isin([export.records.REJECTED, export.records.FAILED])],
            "mean_final": final["score"].mean() if len(final) else None,
        }
    (out / f"{assignment}.html").write_text(environment().get_template("assignment.html.j2").render(**context))
    return {"assignment": assignment, "n": len(subs), "max_score": subs["max_score"].max() if len(subs) else None,
            "mean_final": context.get("mean_final"), "pending": len(context.get("pending", [])),
            "late": len(context.get("late", [])), "not_graded": len(context.get("not_graded", []))}


def course_figure(rows: list[dict]) -> str | None:
    """Mean final score of each assignment, in % of its maximum (None before any final score)."""
    means = {r["assignment"]: 100 * r["mean_final"] / r["max_score"] for r in rows
             if r["mean_final"] is not None and r["max_score"]}
    if not means:
        return None
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(means) + 1))
    ax.barh(list(means)[::-1], list(means.values())[::-1], color="#3b75af")
    ax.set(xlim=(0, 100), xlabel="mean final score, % of the maximum", title="Assignments")
    return png(fig)


def generate(course: Course, assignments: list[str]) -> Path:
    """Write report/<assignment>.html for each assignment and report/index.html; returns the index."""
    out = course.work / "report"
    out.mkdir(parents=True, exist_ok=True)
    rows = [assignment_page(course, a, out) for a in assignments]
    index = out / "index.html"
    index.write_text(environment().get_template("index.html.j2").render(rows=rows, figure=course_figure(rows)))
    return index
