"""The grading image, built and run with podman as CI runs it: 00-python-warmup's solution gets every
autograded point and its release none, and the whole adversarial suite (tests/hostile.py) gets its
outcomes, the kernels isolated by unprivileged namespaces in place of the root-only layers. Skips,
saying why, where no container engine can run; a case whose layers the container lacks skips too.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from filelock import FileLock

from autograder import notebooks as nbs
from autograder.export import PENDING
from autograder.course import REPO, Course

from hostile import CASES, PLANTED, REFERENCE, TEST_LIMITS, Case, Where, answer, hand_in
from toycourse import TOY, make_toy_course

pytestmark = pytest.mark.xdist_group("container")  # one worker runs the image, where loadgroup groups (see image)

WARMUP = "00-python-warmup"
IMAGE = "localhost/eds-grader:test"
CONF = REPO / "autograder" / "container" / "containers.conf"
INSIDE = Where(root=Path("/course"), work=Path("/out"), subs=Path("/submissions"))
# The container's --network none leaves only loopback: an outside address is unreachable.
OUTSIDE = Case("network-outside", answer("answer_mean", "import errno, socket\ndef mean_of(values):\n    try:\n"
               "        socket.create_connection(('192.0.2.1', 80), timeout=2)\n    except OSError as e:\n"
               "        if e.errno == errno.ENETUNREACH:\n            return float(np.mean(values))\n"
               "    return -1.0\n"), "graded", 5)
TOY_CASES = [OUTSIDE] + CASES
# The flags CI runs the image with: podman's masks over /proc would keep the kernel from mounting a
# /proc of its own (the pids layer); the other flags are the container's own limits.
RUN_FLAGS = ["--network", "none", "--read-only", "--memory", "3g", "--pids-limit", "1024",
             "--security-opt", "unmask=/proc/*"]


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


def run_folder(tmp_path_factory) -> Path:
    """The temporary folder of this test run, shared by its xdist workers (each one's own is a child)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def image(tmp_path_factory) -> str:
    """Built once per test run. Every xdist worker that runs a test here asks for it (xdist_group does
    not always keep them on one, see pytest-xdist#1386), and two builds at once would share
    var/image/context: the first worker to take the lock builds and records the outcome, the others
    wait for it and reuse the image, or fail with the same error."""
    reason = why_no_engine()
    if reason:
        print(f"container test skipped: {reason}")
        pytest.skip(reason)
    folder = run_folder(tmp_path_factory)
    outcome = folder / "image-build.json"
    with FileLock(folder / "image-build.lock"):
        if not outcome.exists():
            built = subprocess.run([str(REPO / "autograder" / "container" / "build.sh")], cwd=REPO, capture_output=True,
                                   text=True, env={**os.environ, "ENGINE": "podman", "IMAGE": IMAGE})
            outcome.write_text(json.dumps({"returncode": built.returncode, "stderr": built.stderr[-3000:]}))
    built = json.loads(outcome.read_text())
    assert built["returncode"] == 0, built["stderr"]
    return IMAGE


def class_folder(root: Path) -> Path:
    """The warmup's solution and release, and the toy's cases, as handed in."""
    subs = root / "submissions"
    name = f"{WARMUP}.ipynb"
    nbs.write(nbs.read(Course().solutions_dir / WARMUP / name), subs / "perfect" / WARMUP / name)
    nbs.write(nbs.read(Course().release_dir / WARMUP / name), subs / "blank" / WARMUP / name)
    toy = make_toy_course(root / "toy")
    solution = nbs.read(toy.solutions_dir / TOY / f"{TOY}.ipynb")
    nbs.write(solution, subs / REFERENCE / TOY / f"{TOY}.ipynb")
    hand_in(TOY_CASES, solution, INSIDE, subs)
    return subs


def run_image(image: str, subs: Path, out: Path, *flags: str) -> dict[tuple[str, str], dict]:
    """Grade `subs` into `out` with the image; the rows of grades.json by (student, assignment)."""
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    run = podman("run", "--rm", *flags, "-v", f"{subs}:/submissions:ro", "-v", f"{out}:/out", image, "--jobs", "2")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert (out / "grades.csv").read_text().startswith("student_id,assignment,raw_score")
    return {(r["student"], r["assignment"]): r for r in json.loads((out / "grades.json").read_text())}


@pytest.fixture(scope="session")
def graded(image, tmp_path_factory) -> tuple[dict[tuple[str, str], dict], Path]:
    """One container run over the whole class, two at a time; the toy and the suite's limits are
    mounted read-only over the course's."""
    root = tmp_path_factory.mktemp("container")
    subs = class_folder(root)
    config = root / "nbgrader_config.py"
    config.write_text((REPO / "nbgrader_config.py").read_text() + TEST_LIMITS)
    toy_source = root / "toy" / "source" / TOY
    stores = root / "expected"   # the course's expected observations and the toy's, in one folder
    shutil.copytree(REPO / "source" / ".expected", stores)
    shutil.copy(root / "toy" / "source" / ".expected" / f"{TOY}.json", stores)
    rows = run_image(image, subs, root / "out", *RUN_FLAGS, "-v", f"{toy_source}:/course/source/{TOY}:ro",
                     "-v", f"{stores}:/course/source/.expected:ro", "-v", f"{config}:/course/nbgrader_config.py:ro")
    return rows, root / "out"


def layers_in(out: Path, student: str) -> dict[str, str]:
    """The isolation layers the container's log of a submission lists: name -> 'in force' or why not."""
    log = (out / "logs" / TOY / f"{student}.log").read_text()
    found = {m[1]: "in force" for m in re.finditer(r"^isolation (\w+): ", log, re.M)}
    found.update({m[1]: m[2] for m in re.finditer(r"^isolation MISSING (\w+): (.*)$", log, re.M)})
    return found


def test_solution_gets_every_autograded_point(graded):
    row = graded[0][("perfect", WARMUP)]
    assert row["status"] == "pending manual grading"
    assert row["score"] == row["max_score"] - row["pending_points"] > 0


def test_release_gets_zero(graded):
    row = graded[0][("blank", WARMUP)]
    assert (row["status"], row["score"]) == ("graded", 0)


def test_feedback_is_written(graded):
    assert (graded[1] / "feedback" / "perfect" / WARMUP / f"{WARMUP}.html").is_file()


def test_feedback_holds_the_report_alone(graded):
    """What a kernel wrote beside its notebook (the huge-file case, 256 MB) is not in the feedback."""
    assert [p.name for p in (graded[1] / "feedback" / "huge-file" / TOY).iterdir()] == [f"{TOY}.html"]


def test_the_logs_name_the_container_layers(graded):
    """Non-root in the image: no uid layer, and every log says so and why; the namespaces replace it."""
    layers = layers_in(graded[1], REFERENCE)
    assert layers["user"].startswith("not root"), layers
    assert {"limits", "network", "tmp", "view", "pids"} <= set(layers), layers


def test_reference_submission_in_the_container(graded):
    row = graded[0][(REFERENCE, TOY)]
    assert (row["status"], row["score"]) == (PENDING, 5), row


def test_nothing_was_planted_in_the_working_folder(graded):
    assert not [name for name in PLANTED if (graded[1] / name).exists()]


@pytest.mark.parametrize("case", TOY_CASES, ids=[c.name for c in TOY_CASES])
def test_hostile_submission_in_the_container(graded, case):
    layers = layers_in(graded[1], REFERENCE)
    missing = {k: v for k, v in layers.items() if v != "in force"}
    if not case.runs_with(set(layers) - set(missing)):
        pytest.skip(f"the container lacks {', '.join(case.needs)}: " + "; ".join(missing.values()))
    row = graded[0][(case.name, TOY)]
    expected = PENDING if case.status == "graded" else case.status  # the toy has a written answer for the TA
    assert (row["status"], row["score"]) == (expected, case.score), f"{row['seconds']} s, {row['reason']!r}"


def test_without_user_namespaces_grading_still_works_and_says_so(image, tmp_path):
    """Docker's default seccomp profile forbids unshare: the image then grades with the limits layer
    alone, and each log names every other layer as missing, and why."""
    profile = tmp_path / "no-unshare.json"
    profile.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["unshare", "setns"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}))
    subs = tmp_path / "submissions"
    name = f"{WARMUP}.ipynb"
    nbs.write(nbs.read(Course().solutions_dir / WARMUP / name), subs / "perfect" / WARMUP / name)
    rows = run_image(image, subs, tmp_path / "out", "--network", "none", "--read-only",
                     "--security-opt", f"seccomp={profile}")
    row = rows[("perfect", WARMUP)]
    assert row["score"] == row["max_score"] - row["pending_points"] > 0
    log = (tmp_path / "out" / "logs" / WARMUP / "perfect.log").read_text()
    for layer in ("network", "tmp", "view", "pids"):
        assert f"isolation MISSING {layer}: no unprivileged user namespaces" in log, log[:1500]
