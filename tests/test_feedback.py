"""Feedback pages on the toy class: each part's score, message and misconception, the grader's notes,
lateness, no hidden test, nothing loaded from the network."""
from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from autograder import notebooks as nbs
from autograder.course import REPO
from autograder.feedback_filters import render_maths, split_hint

from toycourse import TOY

pytestmark = pytest.mark.xdist_group("toy")   # one graded toy class per worker

STUDENTS = ["ada", "ben", "cleo", "eve", "finn", "ivy", "jon"]


def page(run, student: str) -> BeautifulSoup:
    return BeautifulSoup(run.feedback_page(student).read_text(), "html.parser")


def summary_row(run, student: str, part: str) -> str:
    return page(run, student).find(id=f"eds-part-{part}").get_text(" ", strip=True)


def test_each_part_shows_its_score_message_and_misconception(toy_run):
    failing = summary_row(toy_run, "ivy", "test_mean")
    assert "0.0 / 2.0" in failing
    assert "mean_of([1.0, 2.0, 6.0]) gave 9.0, expected 3.0." in failing
    assert "Misconception: the sum was not divided by the number of values" in failing
    assert "3.0 / 3.0" in summary_row(toy_run, "ivy", "test_double")
    assert "Misconception" not in page(toy_run, "ada").find(id="eds-summary").get_text()


def test_written_answers_waiting_for_a_ta_show_as_pending(toy_run):
    assert "waiting for a TA / 2.0" in summary_row(toy_run, "ada", "q_outliers")


def test_the_graders_notes_and_lateness_are_shown(toy_run):
    notes = page(toy_run, "eve").find(class_="eds-notes").get_text(" ")
    assert "test_double was edited" in notes and "test_mean was deleted" in notes
    assert "kernel died" in page(toy_run, "finn").get_text()
    late = page(toy_run, "jon").find(class_="eds-late").get_text(" ", strip=True)
    assert "2 day(s) late" in late and "1.0 point(s)" in late
    assert page(toy_run, "ada").find(class_="eds-late") is None


def test_no_hidden_test_line_even_in_tracebacks(toy_run):
    source = nbs.read(REPO / "tests" / "fixtures" / "toy" / f"{TOY}.ipynb")
    hidden = {line.strip() for c in source.cells for line in nbs.region(c.source, nbs.HIDDEN_MARKERS)
              if len(line.strip()) >= 12}
    assert hidden
    for student in STUDENTS:
        text = toy_run.feedback_page(student).read_text()
        assert not [line for line in hidden if line in text], student


def test_pages_load_nothing_from_the_network(toy_run):
    for student in STUDENTS:
        soup = page(toy_run, student)
        remote = [t for t in soup.find_all(["script", "link", "img", "iframe"])
                  if re.match(r"(https?:)?//", t.get("src") or t.get("href") or "")]
        assert not remote, (student, remote)
        assert not soup.find("script", type="text/x-mathjax-config"), student


def test_maths_is_drawn_as_images_and_code_and_dollars_are_kept():
    out = render_maths(r"slope $\beta_1$ and $$y = a x + b$$ cost \$5, see `echo $HOME` and `$x$`")
    images = BeautifulSoup(out, "html.parser").find_all("img")
    assert [i["alt"] for i in images] == [r"\beta_1", "y = a x + b"]
    assert all(i["src"].startswith("data:image/svg+xml;base64,") for i in images)
    assert r"\$5" in out and "`echo $HOME`" in out and "`$x$`" in out


def test_unparsable_maths_falls_back_to_code():
    assert render_maths(r"$\notacommand{x}$") == r"<code>\notacommand{x}</code>"


def test_the_hint_line_is_split_from_the_message():
    assert split_hint("got 9, expected 3.\nMisconception: forgot to divide") == ("got 9, expected 3.", "forgot to divide")
    assert split_hint("got 9") == ("got 9", "")
