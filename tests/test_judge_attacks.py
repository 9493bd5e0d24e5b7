"""The judge end to end on the toy course: forgeries score nothing, feedback quotes no hidden test,
a missing or stale store fails loudly, and every way of grading gives the same scores."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from bs4 import BeautifulSoup

from autograder import expected, feedback, grading, notebooks as nbs
from autograder.sandbox import layers
from autograder.course import REPO
from autograder.nbgrader_api import api_for, gradebook_for

from hostile import CASES, REFERENCE, TEST_LIMITS, Where, hand_in
from judge_attacks import ATTACKS
from toycourse import TOY, make_toy_course

pytestmark = pytest.mark.xdist_group("judge-attacks")  # one worker grades the class once
LAYERS = layers.available_layers()
RUNNABLE = [case for case in ATTACKS if case.runs_with(LAYERS)]
HIDDEN = {'observe_call("double_array", double, np.arange(5))', 'observe_call("mean", mean_of, [1.0, 2.0, 6.0])'}


def toy(root, cases):
    """A toy course with `cases` and the reference handed in under root/subs."""
    course = make_toy_course(root)
    with (root / "nbgrader_config.py").open("a") as fh:
        fh.write(TEST_LIMITS)
    solution = nbs.read(course.solutions_dir / TOY / f"{TOY}.ipynb")
    nbs.write(solution, root / "subs" / REFERENCE / TOY / f"{TOY}.ipynb")
    hand_in(cases, solution, Where(course.root, course.work, root / "subs"), root / "subs")
    return course


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    root = tmp_path_factory.mktemp("judged")
    course = toy(root, RUNNABLE)
    rows = {r.student: r for r in grading.grade(course, TOY, root / "subs", jobs=2)}
    feedback.generate(course, TOY)
    return grading.grading_course(course), rows


@pytest.mark.parametrize("case", ATTACKS, ids=[c.name for c in ATTACKS])
def test_a_forgery_earns_nothing(case, attacked):
    if case not in RUNNABLE:
        pytest.skip(f"needs one of the isolation layers {', '.join(case.needs)}")
    _, rows = attacked
    assert (rows[case.name].status, rows[case.name].score) == (case.status, case.score), rows[case.name].reason
    assert (rows[REFERENCE].status, rows[REFERENCE].score) == ("graded", 5)


def test_feedback_quotes_no_hidden_test(attacked):
    course, rows = attacked
    for student in rows:
        page = course.dir_of("feedback") / student / TOY / f"{TOY}.html"
        text = BeautifulSoup(page.read_text(), "html.parser").get_text()
        assert not [line for line in HIDDEN if line in text], student


def test_what_the_kernel_printed_stays_in_the_instructors_copy(attacked):
    course, _ = attacked
    graded = nbs.read(course.dir_of("autograded") / "prints-the-hidden-test-with-linecache" / TOY / f"{TOY}.ipynb")
    kept = json.dumps([c.metadata.get("eds", {}) for c in graded.cells if nbs.is_test(c)])
    assert 'observe_call(\\"mean\\", mean_of' in kept


def grade_reference(tmp_path, change_store):
    course = toy(tmp_path, [])
    change_store(expected.path(course, TOY))
    [record] = grading.grade(course, TOY, tmp_path / "subs")
    graded = nbs.read(grading.grading_course(course).dir_of("autograded") / REFERENCE / TOY / f"{TOY}.ipynb")
    return record, [o["evalue"] for c in graded.cells if nbs.is_test(c) for o in c.outputs]


def test_a_deleted_store_fails_every_test_loudly(tmp_path):
    record, messages = grade_reference(tmp_path, lambda store: store.unlink())
    assert record.score == 0 and len(messages) == 2
    assert all("no expected observations" in m and "instructor" in m for m in messages)


def test_a_stale_store_fails_the_changed_test(tmp_path):
    def stale(store):
        data = json.loads(store.read_text())
        data["notebooks"][f"{TOY}.ipynb"]["test_mean"]["source_sha256"] = "0" * 64
        store.write_text(json.dumps(data))
    record, messages = grade_reference(tmp_path, stale)
    assert record.score == 3 and messages == ["this test changed after its expected observations were recorded: "
                                              "tell your instructor."]


ONE_PATH = [c for c in ATTACKS + CASES if c.name in (
    "replace-run-code", "objects-equal-to-everything", "forged-observation-then-interrupt",
    "test-cell-type-changed", "tests-reordered", "injected-grade-cells", "answer-given-grade-metadata",
    "hidden-tests-marker-in-a-comment")]


def cell_scores(course) -> dict:
    with gradebook_for(course) as gb:
        return {(s.student.id, g.name): float(g.score) for s in gb.find_assignment(TOY).submissions
                for n in s.notebooks for g in n.grades}


def test_every_way_of_grading_gives_the_same_scores(tmp_path):
    """`grade`, the formgrader's Autograde button (NbGraderAPI.autograde) and `nbgrader autograde`,
    on forgeries and on notebooks whose test cells were moved, retyped or given away."""
    by_grade = toy(tmp_path / "grade", ONE_PATH)
    grading.grade(by_grade, TOY, tmp_path / "grade" / "subs")
    scores = [cell_scores(grading.grading_course(by_grade))]
    for way in ("api", "cli"):
        course = toy(tmp_path / way, ONE_PATH)
        inbox = course.dir_of("submitted")
        inbox.parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / way / "subs").rename(inbox)
        if way == "api":
            api = api_for(course)
            for student in sorted(p.name for p in inbox.iterdir()):
                assert api.autograde(TOY, student, create=True)["success"]
        else:
            subprocess.run([sys.executable, "-m", "nbgrader", "autograde", TOY, "--create"], cwd=course.root,
                           check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        scores.append(cell_scores(course))
    assert scores[0] == scores[1] == scores[2]
    assert scores[0][(REFERENCE, "test_mean")] == 2 and scores[0][("replace-run-code", "test_mean")] == 0
