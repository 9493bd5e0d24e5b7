"""The class report and the exports on the toy class: every required view, pending is not zero, late
is shown, and an assignment with no submission is said to have none."""
from __future__ import annotations

import csv

import pytest
from bs4 import BeautifulSoup

from autograder import export, report
from autograder.course import Course

from conftest import autograder
from toycourse import TOY, make_toy_course

pytestmark = pytest.mark.xdist_group("toy")   # one graded toy class per worker


def report_page(run) -> BeautifulSoup:
    report.generate(run.course, [TOY])
    return BeautifulSoup((run.course.work / "report" / f"{TOY}.html").read_text(), "html.parser")


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
    # 10 submissions: ada, eve, hal, jon pass everything; ivy passes test_double only; ben and the
    # four that were rejected or failed pass nothing.
    double, mean = text_of(soup, "part-test_double"), text_of(soup, "part-test_mean")
    assert "50 %" in double and "40 %" in mean
    assert "NotImplementedError" in double
    assert "1 × AssertionError: mean_of([1.0, 2.0, 6.0]) gave 9.0, expected 3.0." in mean
    assert "10 % of the class (1): the sum was not divided by the number of values" in mean


def test_half_graded_submissions_show_as_pending_not_zero(toy_run):
    pending = text_of(report_page(toy_run), "pending")
    assert "ada 5.0 / 7.0 (pending) 2.0" in pending
    assert "ben" not in pending and "cleo" not in pending   # blank answer and rejected: nothing to grade


def test_late_submissions_show_days_and_penalty(toy_run):
    assert text_of(report_page(toy_run), "late").endswith("jon 2 5.0 1.0 4.0")


def test_grading_table_says_why_each_submission_was_not_graded(toy_run):
    table = text_of(report_page(toy_run), "submissions")
    assert "finn failed 0.0 / 7.0" in table and "kernel died" in table
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
