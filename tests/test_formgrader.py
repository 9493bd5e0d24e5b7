"""Manual grading on the toy class: the formgrader lists the assignment and the submissions waiting
for a TA over HTTP, and a manual grade survives a re-run of autograde."""
from __future__ import annotations

import shutil
import time

import pytest
import requests

from autograder import formgrader, grading
from autograder.nbgrader_api import gradebook_for

from toycourse import TOY

pytestmark = pytest.mark.xdist_group("toy")   # one graded toy class per worker

START_TIMEOUT = 90   # a ceiling on waiting for the server, not a speed assertion


def get_json(url: str):
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            response = requests.get(url, timeout=10)
            if response.status_code == 200:
                return response.json()
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"no answer from {url.split('?')[0]}")
        time.sleep(0.5)


@pytest.fixture
def server(toy_run):
    proc, url = formgrader.start(toy_run.course)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_formgrader_lists_the_assignment_and_the_submissions_to_grade(server):
    base, token = server.split("/formgrader?token=")
    assignments = get_json(f"{base}/formgrader/api/assignments?token={token}")
    toy = {a["name"]: a for a in assignments}[TOY]
    assert toy["num_submissions"] == 7   # nbgrader counts notebooks handed in: the 3 rejected have none
    submissions = {s["student"]: s for s in get_json(f"{base}/formgrader/api/submissions/{TOY}?token={token}")}
    assert submissions["ada"]["needs_manual_grade"] is True
    assert submissions["ben"]["needs_manual_grade"] is False   # a blank answer scores 0 by itself


def test_a_manual_grade_survives_a_rerun_of_autograde(toy_run, tmp_path):
    course = toy_run.copy(tmp_path / "course")
    with gradebook_for(course) as gb:
        gb.find_grade("q_outliers", TOY, TOY, "hal").manual_score = 2
        gb.db.commit()
    shutil.copytree(course.root / "subs" / "hal", tmp_path / "again" / "hal")
    [again] = grading.grade(course, TOY, tmp_path / "again", force=True)
    assert again.score == 7
    with gradebook_for(course) as gb:
        assert gb.find_grade("q_outliers", TOY, TOY, "hal").manual_score == 2
