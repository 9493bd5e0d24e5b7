"""The grading image, built and run with podman as CI runs it: 00-python-warmup's solution gets every
autograded point and its release none, and a few hostile toy submissions get their outcome with the
container's own limits (no network, capped memory and processes, read-only course) in place of the
root-only sandbox layers. Skips, saying why, where no container engine can run.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from autograder import notebooks as nbs
from autograder.export import PENDING
from autograder.course import REPO, Course

from hostile import CASES, answer
from toycourse import TOY, make_toy_course

pytestmark = pytest.mark.xdist_group("container")  # one worker builds and runs the image once

WARMUP = "00-python-warmup"
IMAGE = "localhost/eds-grader:test"
CONF = REPO / "autograder" / "container" / "containers.conf"
# The container's --network none leaves only loopback: an outside address is unreachable.
OUTSIDE = answer("answer_mean", "import errno, socket\ndef mean_of(values):\n    try:\n"
                 "        socket.create_connection(('192.0.2.1', 80), timeout=2)\n    except OSError as e:\n"
                 "        if e.errno == errno.ENETUNREACH:\n            return float(np.mean(values))\n"
                 "    return -1.0\n")
# (student, make, status, score): the toy's reference has 5 points. No fork bomb: without the root-only
# user layer every kernel in the container shares one uid, and a bomb's leftovers would starve the
# kernels graded after it.
TOY_CASES = [("network-outside", OUTSIDE, "graded", 5)] + [
    (c.name, c.make, c.status, c.score) for c in CASES
    if c.name in ("corrupt-json", "os-exit", "memory-hog", "write-outside")]


def podman(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(CONF))}
    return subprocess.run(["podman", *args], capture_output=True, text=True, env=env, **kw)


def why_no_engine() -> str | None:
    if not shutil.which("podman"):
        return "podman is not installed (.ci/run installs it with runc and mmdebstrap)"
    info = podman("info")
    if info.returncode != 0:
        return f"podman cannot run here: {info.stderr.strip()[-300:]}"
    return None


@pytest.fixture(scope="session")
def image() -> str:
    reason = why_no_engine()
    if reason:
        print(f"container test skipped: {reason}")
        pytest.skip(reason)
    built = subprocess.run([str(REPO / "autograder" / "container" / "build.sh")], cwd=REPO, capture_output=True,
                           text=True, env={**os.environ, "ENGINE": "podman", "IMAGE": IMAGE})
    assert built.returncode == 0, built.stderr[-3000:]
    return IMAGE


def class_folder(root: Path) -> Path:
    """The warmup's solution and release, and the toy's cases, as handed in."""
    subs = root / "submissions"
    name = f"{WARMUP}.ipynb"
    nbs.write(nbs.read(Course().solutions_dir / WARMUP / name), subs / "perfect" / WARMUP / name)
    nbs.write(nbs.read(Course().release_dir / WARMUP / name), subs / "blank" / WARMUP / name)
    toy = make_toy_course(root / "toy")
    solution = nbs.read(toy.solutions_dir / TOY / f"{TOY}.ipynb")
    nbs.write(solution, subs / "reference" / TOY / f"{TOY}.ipynb")
    for student, make, _, _ in TOY_CASES:
        made = make(solution, Path("/course"))
        path = subs / student / TOY / f"{TOY}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(made) if isinstance(made, bytes) else nbs.write(made, path)
    return subs


@pytest.fixture(scope="session")
def graded(image, tmp_path_factory) -> tuple[dict[tuple[str, str], dict], Path]:
    """One container run over the whole class; the toy is mounted read-only beside the course."""
    root = tmp_path_factory.mktemp("container")
    subs = class_folder(root)
    out = root / "out"
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    run = podman("run", "--rm", "--network", "none", "--read-only", "--memory", "3g", "--pids-limit", "256",
                 "-v", f"{subs}:/submissions:ro", "-v", f"{out}:/out",
                 "-v", f"{root / 'toy' / 'source' / TOY}:/course/source/{TOY}:ro", image)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert (out / "grades.csv").read_text().startswith("student_id,assignment,raw_score")
    rows = json.loads((out / "grades.json").read_text())
    return {(r["student"], r["assignment"]): r for r in rows}, out


def test_solution_gets_every_autograded_point(graded):
    row = graded[0][("perfect", WARMUP)]
    assert row["status"] == "pending manual grading"
    assert row["score"] == row["max_score"] - row["pending_points"] > 0


def test_release_gets_zero(graded):
    row = graded[0][("blank", WARMUP)]
    assert (row["status"], row["score"]) == ("graded", 0)


def test_feedback_is_written(graded):
    assert (graded[1] / "feedback" / "perfect" / WARMUP / f"{WARMUP}.html").is_file()


@pytest.mark.parametrize("student,status,score", [("reference", "graded", 5)]
                         + [(s, st, sc) for s, _, st, sc in TOY_CASES])
def test_hostile_submission_in_the_container(graded, student, status, score):
    row = graded[0][(student, TOY)]
    expected = PENDING if status == "graded" else status  # the toy has a written answer for the TA
    assert (row["status"], row["score"]) == (expected, score), row
