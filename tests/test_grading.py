"""The grading path on bad input, on a two-part toy course (fast): nothing lost, every case explained."""
from __future__ import annotations

import asyncio
import os
import shlex
import signal
import subprocess
import sys
import time
from multiprocessing.process import BaseProcess
from pathlib import Path

import psutil
import pytest
from nbgrader.apps import NbGraderAPI

from autograder import feedback, grading, intake, records
from autograder import notebooks as nbs
from autograder.course import Course
from autograder.guard import GuardedExecute
from autograder.nbgrader_api import api_for
from autograder.sandbox import kernel, layers, processes, view
from autograder.sandbox.policy import Policy
from autograder.sandbox.workcopy import contents, seal

from conftest import autograder
from toycourse import TOY, make_toy_course, toy_class


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toycourse")
    course = make_toy_course(root)
    toy_class(course, root / "subs")
    rows = {r.student: r for r in grading.grade(course, TOY, root / "subs")}
    feedback.generate(course, TOY)
    return course, rows


def test_every_student_is_recorded(toy):
    course, rows = toy
    assert sorted(rows) == ["ada", "ben", "cleo", "dan", "eve", "finn", "gus", "hal"]
    assert {r.student for r in records.load_all(course, TOY)} == set(rows)


def test_good_submissions_score_what_they_earn(toy):
    _, rows = toy
    assert (rows["ada"].status, rows["ada"].score, rows["ada"].max_score) == ("graded", 5, 7)
    assert (rows["ben"].status, rows["ben"].score) == ("graded", 0)


def test_broken_submissions_get_zero_and_a_reason(toy):
    _, rows = toy
    expected = {"cleo": "not a readable notebook", "dan": "found 99-toy (1).ipynb",
                "gus": "no notebook 99-toy.ipynb", "finn": "kernel died"}
    for student, words in expected.items():
        assert rows[student].score == 0, student
        assert rows[student].status in ("rejected", "failed"), student
        assert words in rows[student].reason, (student, rows[student].reason)


def test_edited_and_deleted_test_cells_are_restored(toy):
    _, rows = toy
    assert rows["eve"].score == 5
    assert any("test_double was edited" in n for n in rows["eve"].notes)
    assert any("test_mean was deleted" in n for n in rows["eve"].notes)


def test_extra_files_are_ignored_and_said(toy):
    _, rows = toy
    assert rows["hal"].score == 5
    assert any("notes.txt" in n for n in rows["hal"].notes)


def test_rejected_students_read_why(toy):
    course, rows = toy
    page = grading.grading_course(course).dir_of("feedback") / "cleo" / TOY / f"{TOY}.html"
    assert "not a readable notebook" in page.read_text()


def test_a_rerun_skips_what_is_graded_and_changes_nothing(toy):
    course, rows = toy
    again = {r.student: r for r in grading.grade(course, TOY, course.root / "subs")}
    assert again == rows  # same records, durations included: nothing was graded twice


@pytest.fixture
def three_solutions(tmp_path):
    """A fresh toy course and three students who hand in its solution."""
    course = make_toy_course(tmp_path / "course")
    solution = nbs.read(course.solutions_dir / TOY / f"{TOY}.ipynb")
    for student in ("ada", "ben", "cal"):
        nbs.write(solution, tmp_path / "subs" / student / TOY / f"{TOY}.ipynb")
    return course, tmp_path / "subs"


def test_a_worker_killed_outright_costs_only_its_own_submission(three_solutions, monkeypatch):
    """The system may kill a worker (the OOM killer does): its student is failed with a reason and the
    batch goes on. The grader used to stop on the EOF of that worker's pipe."""
    course, subs = three_solutions
    real = grading._worker

    def killed_for_ada(course, assignment, student, *rest):
        if student == "ada":
            os.kill(os.getpid(), signal.SIGKILL)
        real(course, assignment, student, *rest)

    monkeypatch.setattr(grading, "_worker", killed_for_ada)
    rows = {r.student: r for r in grading.grade(course, TOY, subs, jobs=2)}
    assert (rows["ada"].status, rows["ada"].score) == ("failed", 0) and rows["ada"].reason
    assert [(rows[s].status, rows[s].score) for s in ("ben", "cal")] == [("graded", 5)] * 2


def test_a_worker_that_reports_while_the_grader_looks_away_is_graded(three_solutions, monkeypatch):
    """A busy grader can be descheduled between asking whether a worker lives and reading its pipe;
    here the worker always reports and exits in between (is_alive waits for it). CI once failed a
    good submission that way: the grader saw an empty pipe, then a dead worker."""
    course, subs = three_solutions

    def is_alive_once_finished(self):
        self.join(timeout=60)
        return self.exitcode is None

    monkeypatch.setattr(BaseProcess, "is_alive", is_alive_once_finished)
    rows = grading.grade(course, TOY, subs, jobs=2)
    assert [(r.status, r.score) for r in rows] == [("graded", 5)] * 3, rows


def test_a_run_loads_the_configuration_once_and_leaves_sys_path_alone(three_solutions):
    """Every step used to execute nbgrader_config.py again (about fifteen times a run), and each
    execution put the course folder in front of sys.path once more. The file counts its own
    executions, in the grader and in every worker (written after the file, so it is read afresh)."""
    course, subs = three_solutions
    loads = subs.parent / "loads"
    with (course.root / "nbgrader_config.py").open("a") as fh:
        fh.write(f"\nopen({str(loads)!r}, 'a').write('loaded\\n')\n")
    course.config()
    path = list(sys.path)
    rows = grading.grade(course, TOY, subs, jobs=2)
    assert [(r.status, r.score) for r in rows] == [("graded", 5)] * 3, rows
    assert loads.read_text().splitlines() == ["loaded"]
    assert sys.path == path


# Each step of one submission's path, in the worker or in the grader, with where to find its student.
STEPS = {"check": (intake, "check", 2), "stage": (intake, "stage", 2), "autograde": (NbGraderAPI, "autograde", 2),
         "scores": (grading, "scores", 2), "fingerprint": (intake, "fingerprint", 0),
         "save": (records, "save", 1), "write-log": (records, "write_log", 1)}


def _faulty(real, student: str, position: int):
    """`real`, raising whenever the argument at `position` is (or holds, or names) `student`."""
    def step(*args, **kwargs):
        arg = args[position]
        if student in (arg, getattr(arg, "student", None)) or (isinstance(arg, Path) and student in arg.parts):
            raise OSError(f"injected fault for {student}")
        return real(*args, **kwargs)
    return step


def test_a_fault_at_any_step_fails_only_its_own_submission(tmp_path, monkeypatch):
    """One student per step of the path, that step failing for that student alone (and for good: a
    second try fails too): each is failed with a reason, every other student is graded."""
    course = make_toy_course(tmp_path / "course")
    solution = nbs.read(course.solutions_dir / TOY / f"{TOY}.ipynb")
    for student in ["ok-1", "ok-2", *(f"fault-in-{step}" for step in STEPS)]:
        nbs.write(solution, tmp_path / "subs" / student / TOY / f"{TOY}.ipynb")
    for step, (owner, name, position) in STEPS.items():
        monkeypatch.setattr(owner, name, _faulty(getattr(owner, name), f"fault-in-{step}", position))
    rows = {r.student: r for r in grading.grade(course, TOY, tmp_path / "subs", jobs=2)}
    assert [(rows[s].status, rows[s].score) for s in ("ok-1", "ok-2")] == [("graded", 5)] * 2
    for step in STEPS:
        assert (rows[f"fault-in-{step}"].status, rows[f"fault-in-{step}"].reason) == ("failed", grading.GRADER_FAILED)
    saved = {r.student: r.status for r in records.load_all(grading.grading_course(course), TOY)}
    assert saved == {**{s: "graded" for s in ("ok-1", "ok-2")},
                     **{f"fault-in-{step}": "failed" for step in STEPS if step != "save"}}


def test_unknown_assignment_is_a_one_line_error():
    result = autograder("grade", "42-nope", "--submissions", ".", check=False)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "unknown assignment '42-nope'" in result.stderr


def test_kernels_get_one_thread_each_unless_the_grader_chose(monkeypatch):
    """Several kernels with a pool of threads each spin on shared cores; a grader's choice stands."""
    monkeypatch.setenv("MKL_NUM_THREADS", "4")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    env = Policy.of(Course()).environment.for_kernel(os.environ, Path("/home/kernel"))
    assert (env["OMP_NUM_THREADS"], env["OPENBLAS_NUM_THREADS"], env["MKL_NUM_THREADS"]) == ("1", "1", "4")


def test_a_submissions_uid_reaches_its_kernel_as_a_value(tmp_path):
    """`grade` hands each worker the run's policy with a uid of the submission's own; nbgrader's
    config carries it to GuardedExecute, which gives it to the kernel manager. A kernel manager
    without a policy starts no kernel."""
    course = Course(workdir=tmp_path)
    policy = Policy.of(course).for_submission(processes.submission_uid())
    execute = GuardedExecute(config=api_for(course, policy).config)
    assert execute.policy == policy
    command = kernel.wrap(["python"], policy, view.View((), (), str(tmp_path), None))
    assert ("user" not in policy.layers) or f"--reuid={policy.uid}" in command
    with pytest.raises(RuntimeError, match="without its policy"):
        asyncio.run(kernel.SandboxKernelManager()._async_pre_start_kernel())


def test_the_view_script_is_valid_shell_whatever_the_paths(tmp_path):
    """Spaces, quotes and newlines in a course's paths stay inside their words."""
    odd = tmp_path / "it's a \"course\"\nhere"
    (odd / "data").mkdir(parents=True)
    built = view.View(readonly=(str(odd / "data"),), writable=(str(odd / "work copy"),), home=str(odd),
                      workdir=str(odd / "work copy"))
    script = built.script(pids=True, then='exec "$@"')
    assert subprocess.run(["sh", "-n", "-c", script]).returncode == 0
    assert shlex.quote(str(odd / "data")) in script


def test_a_sealed_working_copy_holds_what_it_held_before_the_kernel(tmp_path):
    """...and only as plain files: a name the kernel turned into a link, symbolic or hard, goes too."""
    copy = tmp_path / "copy"
    (copy / "data").mkdir(parents=True)
    for name in ("nb.ipynb", "data/given.csv", "swapped.txt"):
        (copy / name).write_text("before")
    kept = contents(copy)
    (copy / "data" / "given.csv").write_text("changed in place: still the student's own file")
    (copy / "model.pt").write_bytes(bytes(1000))
    (copy / "runs" / "1").mkdir(parents=True)
    (copy / "runs" / "1" / "log.txt").write_text("x")
    (copy / "swapped.txt").unlink()
    (copy / "swapped.txt").symlink_to("/etc/passwd")
    (tmp_path / "gradebook.db").write_text("the grader's")
    (copy / "nb.ipynb").unlink()
    os.link(tmp_path / "gradebook.db", copy / "nb.ipynb")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "hidden.py").write_text("the grader's")
    (copy / "runs" / "into-secrets").symlink_to(tmp_path / "secrets")
    (copy / "locked").mkdir(mode=0)
    seal(copy, kept, Policy.of(Course()))
    assert contents(copy) == {"data", "data/given.csv"}
    assert (tmp_path / "gradebook.db").read_text() == (tmp_path / "secrets" / "hidden.py").read_text() == "the grader's"


@pytest.mark.skipif("user" not in layers.available_layers(), reason="kernels have no uid of their own here (not root)")
def test_sealing_first_kills_what_the_kernel_left_running(tmp_path):
    """A process the kernel left behind could swap a folder for a link while the grader clears it."""
    uid = processes.job_uid(7)
    left = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "sleep", "60"])
    try:
        while psutil.Process(left.pid).uids().effective != uid:
            time.sleep(0.01)
        seal(tmp_path, kept=set(), policy=Policy.of(Course()).for_submission(uid))
        assert not psutil.pid_exists(left.pid)  # killed, and reaped by the grader's wait
    finally:
        left.kill()


EXIT_LEADER_ONLY = {"x86_64": 60, "aarch64": 93}.get(os.uname().machine)   # SYS_exit, not exit_group


@pytest.mark.skipif("user" not in layers.available_layers() or EXIT_LEADER_ONLY is None,
                    reason="kernels have no uid of their own here (not root), or no known exit syscall")
def test_reap_ends_threads_whose_leader_left():
    """A process whose main thread exits alone reads as a zombie while its other threads run on:
    they once outlived the kernel's cleanup and read the next students' notebooks."""
    uid = processes.submission_uid()
    script = ("import ctypes, threading, time\nthreading.Thread(target=time.sleep, args=(120,)).start()\n"
              f"ctypes.CDLL(None).syscall({EXIT_LEADER_ONLY}, 0)\n")
    left = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while not (psutil.Process(left.pid).status() == psutil.STATUS_ZOMBIE
                   and len(os.listdir(f"/proc/{left.pid}/task")) > 1):
            assert time.monotonic() < deadline, "the leader never left its threads behind"
            time.sleep(0.05)
        processes.reap(uid, layers.available_layers())
        alive = [t for t in (os.listdir(f"/proc/{left.pid}/task") if os.path.exists(f"/proc/{left.pid}") else [])
                 if processes._task_state(left.pid, t) not in ("Z", "X", "")]
        assert not alive, "the threads that were left still run"
    finally:
        left.kill()
        left.wait()


def test_every_submission_gets_a_uid_of_its_own():
    uids = {processes.submission_uid() for _ in range(1000)}
    assert len(uids) == 1000 and min(uids) > processes.job_uid(15) and max(uids) < 2**31
