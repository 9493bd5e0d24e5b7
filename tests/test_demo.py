"""`make demo` on the warm-up: the sample class is graded end to end and summarised."""
from __future__ import annotations

import csv
import re
import shutil

import pytest
from bs4 import BeautifulSoup

from conftest import ASSIGNMENTS, autograder

WARMUP = "00-python-warmup"


@pytest.mark.skipif(WARMUP not in ASSIGNMENTS, reason="the warm-up assignment is not in source/")
@pytest.mark.xdist_group(WARMUP)
def test_demo_grades_the_sample_class(tmp_path):
    result = autograder("--workdir", str(tmp_path), "demo", WARMUP)
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "submissions.csv").open())}
    assert len(rows) >= 6
    assert rows["ada-perfect"]["score"] == rows["finn-late"]["score"]
    assert float(rows["cleo-blank"]["score"]) == 0
    assert rows["dan-crashing"]["status"] == "failed" and rows["dan-crashing"]["reason"]
    assert rows["gus-renamed"]["status"] == "rejected"
    assert "restored" in rows["eve-test-editor"]["notes"] or "put back" in rows["eve-test-editor"]["notes"]
    partial = float(rows["ben-partial"]["score"])
    assert 0 < partial < float(rows["ada-perfect"]["score"])
    assert (tmp_path / "grades.csv").exists()
    for path in ("feedback:", "grades:", "ada-perfect"):
        assert path in result.stdout
    page = BeautifulSoup((tmp_path / "report" / f"{WARMUP}.html").read_text(), "html.parser")
    planted = " ".join(page.find(id="planted").get_text(" ", strip=True).split())
    assert re.search(r"named (\d+) of \1 \(100 %\)", planted), planted   # every planted hint named
    # the copied pair is on the similarity page, the two who solved it independently are not
    similar = BeautifulSoup((tmp_path / "report" / f"{WARMUP}-similarity.html").read_text(), "html.parser")
    pairs = [[td.get_text(strip=True) for td in tr.find_all("td")][:2] for tr in similar.find(id="pairs").find_all("tr")[1:]]
    assert pairs == [["hana-own-way", "ivan-copy"]], pairs
    assert rows["hana-own-way"]["score"] == rows["jade-own-way"]["score"] == rows["ada-perfect"]["score"]
    # a quiet console: no library warning, the notes wrapped whole, the warnings kept in a log
    assert "Warning" not in result.stderr + result.stdout, result.stderr[:2000]
    assert "notebooks are graded by name, rename it and submit again" in " ".join(result.stdout.split())
    assert (tmp_path / "logs" / "warnings.log").exists() and "--verbose" in result.stdout
    # every formula of the warm-up's feedback drawn (the design matrix too), none left as TeX
    feedback = BeautifulSoup((tmp_path / "feedback" / "ada-perfect" / WARMUP / f"{WARMUP}.html").read_text(),
                             "html.parser")
    assert feedback.find(class_="eds-matrix") and len(feedback.find_all("img", class_="eds-math")) > 20
    assert not re.search(r"\$[^$\s][^$]*\$|\\begin\{", feedback.find(id="notebook").get_text())


REGRESSION = "01-regression"


@pytest.mark.skipif(REGRESSION not in ASSIGNMENTS, reason="01-regression is not in source/")
@pytest.mark.xdist_group(REGRESSION)
def test_demo_flags_the_student_who_used_another_variants_data(tmp_path):
    """Of 01-regression's sample class, the perfect student and the one who read a classmate's data
    (two gradings, not the whole class): the record and the report's page flag the second only."""
    from autograder import demo, records
    from autograder.course import Course
    course, submissions = Course(workdir=tmp_path), tmp_path / "submissions"
    demo.build_class(course, REGRESSION, submissions)
    for folder in submissions.iterdir():
        if folder.name not in ("ada-perfect", demo.OTHER_VARIANT):
            shutil.rmtree(folder)
    autograder("--workdir", str(tmp_path), "grade", REGRESSION, "--submissions", str(submissions))
    autograder("--workdir", str(tmp_path), "report", REGRESSION)
    flagged, perfect = records.load(course, REGRESSION, demo.OTHER_VARIANT), records.load(course, REGRESSION, "ada-perfect")
    assert flagged.flags and all("match variant" in flag for flag in flagged.flags), flagged
    assert not perfect.flags and flagged.score < perfect.score
    page = BeautifulSoup((tmp_path / "report" / f"{REGRESSION}.html").read_text(), "html.parser")
    table = page.find(id="variant-flags").get_text(" ", strip=True)
    assert demo.OTHER_VARIANT in table and "ada-perfect" not in table and "test_rating_real" in table
