"""Manual grading on the toy class: the formgrader lists the assignment and the submissions waiting
for a TA over HTTP, and a manual grade survives a re-run of autograde."""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time

import psutil
import pytest
import requests

from autograder import formgrader, grading
from autograder.course import REPO
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


def test_no_exchange_banner(server):
    """The course uses no exchange: the formgrader must not warn about a missing one."""
    base, token = server.split("/formgrader?token=")
    get_json(f"{base}/formgrader/api/assignments?token={token}")   # waits for the server
    page = requests.get(f"{base}/formgrader/manage_assignments?token={token}", timeout=30).text
    assert "manage" in page.lower() and "warning-exchange" not in page


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stopped_formgrader_leaves_no_server_behind(toy_run, sig):
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "--workdir", str(toy_run.course.work), "formgrader"],
                            cwd=REPO, stdout=subprocess.PIPE, text=True, start_new_session=True)
    url = proc.stdout.readline().split("formgrader: ", 1)[1].strip()
    base, token = url.split("/formgrader?token=")
    get_json(f"{base}/formgrader/api/assignments?token={token}")
    children = psutil.Process(proc.pid).children(recursive=True)
    assert children, "the wrapper started no server"
    proc.send_signal(sig)
    proc.wait(timeout=60)
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, f"left running after {sig.name}: {[p.pid for p in alive]}"
