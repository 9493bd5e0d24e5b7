"""The class report: one static HTML page per assignment and a course page, readable from disk.

What a TA opens first: how the class scored, which parts failed and why (the most frequent test
messages and misconceptions), who waits for manual grading, who was late, how long grading took;
and, on a page of its own, which submissions share their answer code (autograder/similarity.py).
Figures are matplotlib PNGs embedded in the page, so the folder can be mailed or opened offline.
"""
from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import matplotlib
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import export, similarity
from . import notebooks as nbs
from .course import Course
from .feedback_filters import points, split_hint, test_failure
from .grading import grading_course
from .nbgrader_api import gradebook_for
from .parts import part_names

matplotlib.use("agg")
from matplotlib import pyplot as plt  # noqa: E402 (after choosing the file-only backend)
from matplotlib.ticker import MaxNLocator  # noqa: E402

PLANTED = "planted.json"   # in the working folder: see record_planted

TEMPLATES = Path(__file__).resolve().parent / "templates" / "report"
FINAL = {export.records.GRADED}          # scores that are final grades
NOT_GRADED = {export.records.REJECTED, export.records.FAILED}   # counted apart from every mean and rate
TOP_MESSAGES = 3


def test_cells(course: Course, assignment: str) -> dict[str, float]:
    """grade_id -> points of every autograded test cell, in notebook order."""
    return {nbs.grade_id(c): nbs.meta(c)["points"] for name in course.notebook_names(assignment)
            for c in nbs.read(course.source_dir / assignment / name).cells if nbs.is_test(c)}


def names_of(course: Course, assignment: str) -> dict[str, str]:
    """grade_id -> "Part 1.1 · title", from the source notebooks' headings."""
    return {k: v for name in course.notebook_names(assignment)
            for k, v in part_names(nbs.read(course.source_dir / assignment / name)).items()}


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
    """One row per (submission, test cell): score, passed, message, hint."""
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
    """Final scores, the autograded part of the submissions still pending, and apart from both the
    rejected and failed submissions (their 0 is not a score the notebook earned)."""
    fig, ax = plt.subplots(figsize=(6, 3))
    top = float(subs["max_score"].max())
    groups = [("final score", FINAL, "#3b75af"), ("autograded part, manual grading pending", {export.PENDING}, "#b9c9dc"),
              ("rejected or failed (not run)", NOT_GRADED, "#999999")]
    ax.hist([subs[subs["status"].isin(statuses)]["score"] for _, statuses, _ in groups],
            bins=min(20, max(int(top), 1)), range=(0, top), stacked=True,
            label=[label for label, _, _ in groups], color=[colour for _, _, colour in groups])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="score (after late penalty)", ylabel="submissions", title="Score distribution")
    ax.legend(fontsize="small")
    return png(fig)


def pass_rate_figure(parts: pd.DataFrame) -> str:
    rates = parts.groupby("label", sort=False)["passed"].mean() * 100
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(rates) + 1))
    ax.barh(rates.index[::-1], rates.values[::-1], color="#4c9a5b")
    ax.set(xlim=(0, 100), xlabel="% of the run submissions with full marks", title="Pass rate of each part")
    return png(fig)


def timing_figure(subs: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(subs) + 1))
    colours = subs["status"].map({"rejected": "#999999", "failed": "#c0392b"}).fillna("#3b75af")
    ax.barh(subs["student"][::-1], subs["seconds"].fillna(0)[::-1], color=colours[::-1])
    ax.set(xlabel="seconds (grey: rejected before running, red: failed)", title="Grading time per submission")
    return png(fig)


def part_summary(parts: pd.DataFrame) -> list[dict]:
    """Per test cell: pass rate, most frequent failure messages and misconceptions, as shares of the
    submissions that ran (a rejected or failed notebook says nothing about a part)."""
    summary = []
    for part, rows in parts.groupby("part", sort=False):
        messages = rows[rows["message"] != ""]["message"].value_counts().head(TOP_MESSAGES)
        hints = rows[rows["hint"] != ""]["hint"].value_counts()
        summary.append({"part": part, "label": rows["label"].iloc[0], "points": rows["points"].iloc[0],
                        "pass_rate": 100 * rows["passed"].mean(), "messages": list(messages.items()),
                        "misconceptions": [(hint, count, 100 * count / len(rows)) for hint, count in hints.items()]})
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
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["points"] = points
    return env


def feedback_links(course: Course, assignment: str, students: list[str], out: Path) -> dict[str, str]:
    """student -> the feedback page's path relative to the report folder, for those that have one."""
    folder = grading_course(course).dir_of("feedback")
    pages = {s: folder / s / assignment / f"{assignment}.html" for s in students}
    return {s: os.path.relpath(page, out) for s, page in pages.items() if page.exists()}


def formgrader_links(course: Course, assignment: str, students: list[str], url: str | None) -> dict:
    """Where the formgrader grades this assignment and each student's submission, from the URL
    `make formgrader` printed (with its token); empty without it, as its port changes every run."""
    if not url:
        return {}
    parts = urlsplit(url)
    base, query = f"{parts.scheme}://{parts.netloc}/formgrader", f"?{parts.query}" if parts.query else ""
    notebook = Path(course.notebook_names(assignment)[0]).stem
    return {"assignment": f"{base}/gradebook/{assignment}/{notebook}{query}",
            "students": {s: f"{base}/manage_students/{s}/{assignment}{query}" for s in students}}


def means(subs: pd.DataFrame) -> dict:
    """The course page's figures of one assignment: the mean of the final scores, the provisional
    mean (final and pending together, pending counting their autograded part), and the counts."""
    final = subs[subs["status"].isin(FINAL)]["score"]
    run = subs[~subs["status"].isin(NOT_GRADED)]["score"]
    return {"n": len(subs), "max_score": subs["max_score"].max() if len(subs) else None,
            "mean_final": final.mean() if len(final) else None, "final": len(final),
            "mean_provisional": run.mean() if len(run) else None,
            "pending": int((subs["status"] == export.PENDING).sum()), "late": int((subs["days_late"] > 0).sum()),
            "not_graded": int(subs["status"].isin(NOT_GRADED).sum())}


def assignment_page(course: Course, assignment: str, out: Path, formgrader: str | None = None) -> None:
    """Write out/<assignment>.html."""
    subs = export.submission_table(course, assignment)
    context = {"assignment": assignment, "subs": subs, "n": len(subs), "summary": means(subs)}
    if len(subs):
        ran = subs[~subs["status"].isin(NOT_GRADED)]
        parts = parts_table(course, assignment, list(ran["student"]))
        parts["label"] = parts["part"].map(names_of(course, assignment))
        context |= {
            "figures": {"scores": score_figure(subs), "pass_rates": pass_rate_figure(parts) if len(parts) else None,
                        "timing": timing_figure(subs)},
            "parts": part_summary(parts), "ran": len(ran),
            "planted": planted_named(course, assignment, parts),
            "pending": subs[subs["status"] == export.PENDING],
            "late": subs[subs["days_late"] > 0],
            "flagged": subs[subs["flags"].map(bool)], "has_variants": bool(subs["variant"].notna().any()),
            "not_graded": subs[subs["status"].isin(NOT_GRADED)],
            "feedback": feedback_links(course, assignment, list(subs["student"]), out),
            "formgrader": formgrader_links(course, assignment, list(subs["student"]), formgrader),
            "similarity": similarity_page(course, assignment, out),
        }
    (out / f"{assignment}.html").write_text(environment().get_template("assignment.html.j2").render(**context))


def similarity_page(course: Course, assignment: str, out: Path) -> dict:
    """Write out/<assignment>-similarity.html (the pairs whose answers match, for a TA to read);
    returns its name and the number of pairs, for the assignment page's link."""
    findings = similarity.find(course, assignment)
    page = similarity_name(assignment)
    (out / page).write_text(environment().get_template("similarity.html.j2").render(
        assignment=assignment, findings=findings))
    return {"page": page, "pairs": len(findings.students.pairs),
            "reference": len(findings.reference.pairs) if findings.reference else 0}


def similarity_name(assignment: str) -> str:
    return f"{assignment}-similarity.html"


def course_figure(rows: list[dict]) -> str | None:
    """Final and provisional mean of each assignment, in % of its maximum (None before any score)."""
    shown = [r for r in rows if r["n"] and r["max_score"] and r["mean_provisional"] is not None]
    if not shown:
        return None
    names = [r["assignment"] for r in shown][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.5 * len(shown) + 1.2))
    y = range(len(shown))
    ax.barh([i + 0.2 for i in y], [100 * r["mean_provisional"] / r["max_score"] for r in shown[::-1]], height=0.4,
            color="#b9c9dc", label="provisional mean (written answers pending count as their autograded part)")
    ax.barh([i - 0.2 for i in y], [100 * (r["mean_final"] or 0) / r["max_score"] for r in shown[::-1]], height=0.4,
            color="#3b75af", label="mean of the final scores")
    ax.set_yticks(list(y), names)
    ax.set(xlim=(0, 100), xlabel="% of the maximum (rejected and failed submissions left out)", title="Assignments")
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.25))
    return png(fig)


def generate(course: Course, assignments: list[str], formgrader: str | None = None) -> Path:
    """Write report/<assignment>.html for each of `assignments`, and report/index.html over every
    assignment of the course (a report of one assignment keeps the others' rows); returns the index."""
    out = course.work / "report"
    out.mkdir(parents=True, exist_ok=True)
    for assignment in assignments:
        assignment_page(course, assignment, out, formgrader)
    rows = [{"assignment": a, "page": (out / f"{a}.html").exists(),
             "similarity": similarity_name(a) if (out / similarity_name(a)).exists() else None,
             **means(export.submission_table(course, a))}
            for a in sorted(set(course.assignments()) | set(assignments))]
    index = out / "index.html"
    index.write_text(environment().get_template("index.html.j2").render(rows=rows, figure=course_figure(rows)))
    return index
