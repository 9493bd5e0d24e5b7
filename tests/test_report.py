"""The class report and the exports on the toy class: every required view, pending is not zero, late
is shown, and an assignment with no submission is said to have none."""
from __future__ import annotations

import csv
import re
import shutil

import nbformat
import pytest
from bs4 import BeautifulSoup

from autograder import export, report
from autograder.course import Course
from autograder.feedback_filters import points
from autograder.parts import part_names

from conftest import autograder
from toycourse import TOY, make_toy_course

pytestmark = pytest.mark.xdist_group("toy")   # one graded toy class per worker


def report_page(run) -> BeautifulSoup:
    report.generate(run.course, [TOY])
    return BeautifulSoup((run.course.work / "report" / f"{TOY}.html").read_text(), "html.parser")


def index_page(course: Course) -> BeautifulSoup:
    return BeautifulSoup((course.work / "report" / "index.html").read_text(), "html.parser")


def graded(cell, grade_id: str, solution: bool = False):
    cell.metadata["nbgrader"] = {"grade": True, "solution": solution, "grade_id": grade_id, "points": 1}
    return cell


def text_of(soup: BeautifulSoup, id_: str) -> str:
    return " ".join(soup.find(id=id_).get_text(" ", strip=True).split())


def test_the_page_has_the_three_figures_and_a_course_index(toy_run):
    soup = report_page(toy_run)
    alts = {img["alt"] for img in soup.find_all("img") if img["src"].startswith("data:image/png;base64,")}
    assert alts == {"score distribution", "pass rate of each part", "grading time per submission"}
    index = BeautifulSoup((toy_run.course.work / "report" / "index.html").read_text(), "html.parser")
    assert index.find("a", href=f"{TOY}.html") and index.find("img")


def test_pass_rates_failures_and_misconceptions_per_part(toy_run):
    soup = report_page(toy_run)
    # 10 submissions, 4 rejected or failed (left out, and said so); of the 6 that ran, ada, eve, hal,
    # jon pass everything, ivy passes test_double only, ben (blank) passes nothing.
    double, mean = text_of(soup, "part-test_double"), text_of(soup, "part-test_mean")
    assert "83 %" in double and "67 %" in mean
    assert "NotImplementedError" in double
    assert re.search(r"1 × \w+: mean_of\(\[1.0, 2.0, 6.0\]\)[^×]*9.0", mean), mean
    assert "17 % (1): the sum was not divided by the number of values" in mean
    assert "of the 6 submission(s) that ran; the 4 rejected or failed ones are left out" in " ".join(soup.get_text(" ").split())


def test_final_and_provisional_means_leave_out_rejected_and_failed(toy_run):
    report.generate(toy_run.course, [TOY])
    subs = export.submission_table(toy_run.course, TOY)
    ran = subs[~subs["status"].isin(["rejected", "failed"])]
    final = ran[ran["status"] == "graded"]
    row = text_of(index_page(toy_run.course), f"row-{TOY}")
    assert f"{final['score'].mean():g} / 7 ({len(final)})" in row
    assert f"{round(ran['score'].mean(), 2):g} / 7" in row
    assert ran["score"].mean() > 0   # the provisional mean is not the 0 of the blank notebook alone


def test_a_report_of_one_assignment_keeps_the_others_rows(toy_run, tmp_path):
    course = toy_run.copy(tmp_path / "course")
    shutil.copytree(course.source_dir / TOY, course.source_dir / "98-other")
    report.generate(course, [TOY])
    report.generate(course, ["98-other"])
    index = index_page(course)
    assert "no submissions yet" in text_of(index, "row-98-other")
    assert text_of(index, f"row-{TOY}").startswith(f"{TOY} 10 ") and index.find("a", href=f"{TOY}.html")


def test_students_link_to_their_feedback_and_to_the_formgrader(toy_run):
    out = toy_run.course.work / "report"
    report.generate(toy_run.course, [TOY], formgrader="http://127.0.0.1:4321/formgrader?token=abc")
    soup = BeautifulSoup((out / f"{TOY}.html").read_text(), "html.parser")
    link = soup.find(id="submissions").find("a", string="ivy")
    assert (out / link["href"]).resolve() == toy_run.feedback_page("ivy").resolve()
    assert soup.find("a", href=f"http://127.0.0.1:4321/formgrader/manage_students/ada/{TOY}?token=abc")
    assert soup.find(id="formgrader").find("a", href=f"http://127.0.0.1:4321/formgrader/gradebook/{TOY}/{TOY}?token=abc")
    assert soup.find("meta", attrs={"name": "viewport"})


def test_numbers_are_rounded_as_people_write_them():
    assert [points(x) for x in (12.200000000000001, 3.0, 2 / 3)] == ["12.2", "3", "0.67"]


def test_parts_are_named_by_the_source_headings():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 00 · Title\n## 1. Section"),
        graded(nbformat.v4.new_code_cell("assert True"), "test_lonely"),
        nbformat.v4.new_markdown_cell("### Part 1.1 — Sort the stations by altitude (3 points)\nText."),
        graded(nbformat.v4.new_code_cell("assert True"), "test_sort"),
        nbformat.v4.new_markdown_cell("## Part 2 — Grid search [auto, 6 pts]"),
        graded(nbformat.v4.new_code_cell("assert True"), "test_grid"),
        nbformat.v4.new_markdown_cell("**Question 2 (2 points).** Why?"),
        graded(nbformat.v4.new_markdown_cell("answer"), "q_why", solution=True),
        nbformat.v4.new_markdown_cell("## 3 · Max pooling\n**Question (1 point).** And?"),
        graded(nbformat.v4.new_markdown_cell("answer"), "q_and", solution=True),
    ])
    assert part_names(nb) == {"test_lonely": "test_lonely", "test_sort": "Part 1.1 · Sort the stations by altitude",
                              "test_grid": "Part 2 · Grid search", "q_why": "Question 2",
                              "q_and": "Part 3 · Max pooling, written question"}


def test_half_graded_submissions_show_as_pending_not_zero(toy_run):
    pending = text_of(report_page(toy_run), "pending")
    assert "ada 5 / 7 (pending) 2" in pending
    assert "ben" not in pending and "cleo" not in pending   # blank answer and rejected: nothing to grade


def test_late_submissions_show_days_and_penalty(toy_run):
    assert text_of(report_page(toy_run), "late").endswith("jon 2 5 1 4")


def test_grading_table_says_why_each_submission_was_not_graded(toy_run):
    table = text_of(report_page(toy_run), "submissions")
    assert "finn failed 0 / 7" in table and "kernel died" in table
    assert "not a readable notebook" in table and "test_mean was deleted" in table


def test_lms_csv_has_stable_columns_and_lateness(toy_run, tmp_path):
    rows = list(csv.reader(export.lms_csv(toy_run.course, [TOY], tmp_path / "lms.csv").open()))
    assert rows[0] == ["student_id", "assignment", "raw_score", "late_penalty", "score", "max_score",
                       "days_late", "status"]
    by_student = {r[0]: r for r in rows[1:]}
    assert by_student["jon"] == ["jon", TOY, "5.0", "1.0", "4.0", "7.0", "2", "pending manual grading"]
    assert by_student["ben"][-1] == "graded" and by_student["gus"][-1] == "rejected"


def test_an_assignment_without_submissions_says_so_and_exits_0(tmp_path):
    course = make_toy_course(tmp_path / "course")
    result = autograder("--workdir", str(tmp_path / "var"), "report", check=False)
    assert result.returncode == 0, result.stderr
    # the real course's assignments, none graded in this empty working folder
    index = BeautifulSoup((tmp_path / "var" / "report" / "index.html").read_text(), "html.parser")
    assert "no submissions yet" in index.get_text()
    report.generate(Course(root=course.root), [TOY])
    page = BeautifulSoup((course.work / "report" / f"{TOY}.html").read_text(), "html.parser")
    assert "No submissions of 99-toy have been graded yet" in page.get_text() and not page.find("img")


def test_planted_misconceptions_are_counted_as_named_or_missed(toy_run, tmp_path):
    course = toy_run.copy(tmp_path / "course")
    planted = {TOY: {"ivy": ["the sum was not divided by the number of values"],
                     "ada": ["a misconception the solution cannot show"]}}
    report.record_planted(course, planted)
    report.generate(course, [TOY])
    page = BeautifulSoup((course.work / "report" / f"{TOY}.html").read_text(), "html.parser")
    said = text_of(page, "planted")
    assert "named 1 of 2 (50 %)" in said
    assert "not named for ada: a misconception the solution cannot show" in said
