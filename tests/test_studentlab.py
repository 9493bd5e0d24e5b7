"""A student's JupyterLab (`make lab`): nbgrader's instructor tools and its exchange-only lists are
neither shown nor served; Validate is, and works."""
from __future__ import annotations

import json
import re
import secrets
import subprocess
import time

import pytest
import requests

from autograder import studentlab
from autograder.course import REPO, Course
from autograder.formgrader import free_port

START_TIMEOUT = 120   # a ceiling on waiting for the server, not a speed assertion


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    port, token = free_port(), secrets.token_hex(16)
    course = Course(workdir=tmp_path_factory.mktemp("lab"))
    cmd, env = studentlab.command(course, ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                                           f"--IdentityProvider.token={token}", "--allow-root"])
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    session = requests.Session()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            page = session.get(f"{base}/lab?token={token}", timeout=10)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail("the student's JupyterLab did not start")
            time.sleep(0.5)
    yield session, base, page.text
    server.terminate()
    server.wait(timeout=30)


def page_config(html: str) -> dict:
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_only_validate_of_nbgrader_is_shown(lab):
    _, _, html = lab
    disabled = set(page_config(html)["disabledExtensions"])
    assert set(studentlab.HIDDEN_PLUGINS) <= disabled
    assert "@jupyter/nbgrader:validate-assignment" not in disabled and "@jupyter/nbgrader:menu" not in disabled


def test_instructor_and_exchange_backends_are_not_served(lab):
    session, base, _ = lab
    for path in ("formgrader", "formgrader/api/assignments", "assignments", "courses"):
        assert session.get(f"{base}/{path}", timeout=30).status_code == 404, path


def test_validate_runs_a_students_notebook(lab):
    session, base, _ = lab
    xsrf = session.cookies.get("_xsrf")
    answer = session.post(f"{base}/assignments/validate", data={"path": "00-python-warmup/00-python-warmup.ipynb"},
                          headers={"X-XSRFToken": xsrf}, timeout=300).json()
    assert answer["success"], answer
    assert "NotImplementedError" in json.dumps(answer["value"]), "the release's stubs fail validation"
