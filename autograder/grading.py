"""Autograding a folder of submissions with nbgrader, several at once, with a record for each.

Layout of a submissions folder: `<student>/<assignment>/<notebook>.ipynb` (and an optional
`timestamp.txt`, as nbgrader's collect writes it). Each submission is graded in a forked worker
process with a wall-clock limit: a notebook that hangs, crashes or floods its output takes down only
its worker. nbgrader's own autograde drops a student whose notebook fails to run ("Removing failed
assignment"); here that student stays in the gradebook, with 0 for the autograded cells, and the
record says why. Workers write the gradebook one short transaction at a time (SQLite waits for
its lock), and only the parent writes the records, so `--jobs N` grades as `--jobs 1` does.
"""
from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import traceback
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Callable, NamedTuple

import psutil
from nbgrader.api import InvalidEntry, MissingEntry
from sqlalchemy.exc import OperationalError

from . import build, intake, records, sandbox, variants
from .course import STUDENT_ID, Course, CourseError
from .nbgrader_api import api_for, failure_summary, gradebook_for
from .records import FAILED, GRADED, REJECTED, Record
from .shard import Shard, setup_lock

# Called with each record as it is written, the number done and the number to grade (a progress line).
OnGraded = Callable[[Record, int, int], None]

# What a student reads when the grader itself failed on the submission (the traceback is the staff's).
GRADER_FAILED = "the grader failed on this submission; the course staff can read why in its grading log"

# What a failing nbgrader run means, in words a student understands.
EXPLANATIONS = {
    "DeadKernelError": "the Python kernel died while running the notebook "
                       "(a crash, os._exit or sys.exit outside a function, or memory exhausted)",
    "CellTimeoutError": "a cell ran longer than the time limit and could not be interrupted",
    "TimeoutError": "a cell ran longer than the time limit",
    "MemoryError": "the notebook's outputs were too large to record",
    "unknown nbgrader error": GRADER_FAILED,
}


def grading_course(course: Course) -> Course:
    """Grading keeps its own copy of the release in the working folder, never touching release/."""
    return dataclasses.replace(course, release=course.work / "release")


def kernel_environment(course: Course, data: Path | None = None) -> dict[str, str]:
    """What every grading kernel inherits (GuardedExecute sets it around each run, on every path).

    nbgrader scores any stderr output in a test cell as a failure, so library warnings are silenced
    (a test that checks for a warning turns them on itself). One BLAS/torch thread per kernel unless
    the grader set its own: kernels share the machine with each other (--jobs) and with whatever
    else runs, and an OpenMP pool sized for every core spins waiting for cores it does not get
    (measured: a 05-cnn training cell, 5 s alone with one or two threads, took 80 s with two
    beside two busy processes, 5.7 s with one). Parallel grading comes from --jobs instead.
    `data`: the student's variant of the data (variants.py), the committed data by default.
    """
    threads = {name: os.environ.get(name, "1") for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                             "OPENBLAS_NUM_THREADS")}
    return {"EDS_DATA_DIR": str(data or course.data_dir), "PYTHONWARNINGS": "ignore", "MPLBACKEND": "agg", **threads}


def explain(summary: str) -> str:
    for name, text in EXPLANATIONS.items():
        if name in summary:
            return text
    return f"the notebook could not be graded: {summary}"


def students_in(submissions: Path) -> list[str]:
    return sorted(p.name for p in submissions.iterdir() if p.is_dir()) if submissions.is_dir() else []


def zero_autograded(course: Course, assignment: str, student: str) -> None:
    """Put the submission in the gradebook with 0 for every autograded cell (manual grades kept)."""
    with gradebook_for(course) as gb:
        gb.update_or_create_student(student)
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            submission = gb.add_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.auto_score is not None or grade.cell.cell_type == "code":
                    grade.auto_score = 0
        gb.db.commit()


def scores(course: Course, assignment: str, student: str) -> tuple[float, float]:
    with gradebook_for(course) as gb:
        submission = gb.find_submission(assignment, student)
        return float(submission.score), float(submission.max_score)


def grade_one(course: Course, api, assignment: str, student: str, folder: Path) -> tuple[Record, str]:
    """Check, stage and autograde one submission; returns its record and nbgrader's log."""
    started = time.monotonic()
    limits = sandbox.GradingLimits(config=course.config())
    checked = intake.check(course, assignment, folder, limits.submission_bytes)
    record = Record(student, assignment, GRADED, notes=checked.notes, timestamp=checked.timestamp,
                    submission_sha256=checked.sha256, layers=sandbox.describe_layers(limits))
    log = ""
    if not checked.ok:
        record.status, record.reason = REJECTED, checked.reason
        zero_autograded(course, assignment, student)
    else:
        intake.stage(course, assignment, student, checked)
        result = api.autograde(assignment, student, force=True, create=True)
        log = result.get("log", "") + result.get("error", "")
        if not result["success"]:
            record.status, record.reason = FAILED, explain(failure_summary(result))
            zero_autograded(course, assignment, student)
        else:
            record.variant, record.flags = variants.flags(course, assignment, student)
    record.score, record.max_score = scores(course, assignment, student)
    record.seconds = round(time.monotonic() - started, 2)
    return record, log


def _worker(course: Course, assignment: str, student: str, folder: Path, uid: int, conn) -> None:
    """Runs in a forked process: one submission, its own process group, its own sandbox uid."""
    os.setpgrp()
    os.environ["EDS_SANDBOX_UID"] = str(uid)
    memory = sandbox.GradingLimits(config=course.config()).memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        conn.send(grade_one(course, api_for(course), assignment, student, folder))
    except BaseException as exc:  # the worker must report, whatever the notebook did to it
        conn.send((None, traceback.format_exc()))


def _stop(proc, uid: int) -> None:
    """Kill a worker, its kernel and anything the kernel started.

    The kernel has a session of its own (jupyter_client's), so the worker's process group does not
    reach it: its process tree is killed first, and the kernel's namespace dies with it.
    """
    try:
        tree = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        tree = []
    for child in tree:
        with contextlib.suppress(psutil.Error):
            child.kill()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.join()
    sandbox.reap(uid)


def _failed(course: Course, assignment: str, student: str, reason: str, seconds: float) -> Record:
    record = Record(student, assignment, FAILED, reason=reason, seconds=round(seconds, 2),
                    layers=sandbox.describe_layers(sandbox.GradingLimits()))
    _zeroed(course, record)
    return record


class Job(NamedTuple):
    """One submission being graded in a worker."""
    proc: BaseProcess
    conn: Connection  # the reading end of the worker's pipe
    student: str
    folder: Path
    started: float
    uid: int  # the sandbox uid of this submission's kernel


def _report(conn: Connection) -> tuple[Record | None, str] | None:
    """What the worker sent, or None if it has sent nothing (yet, or ever: a worker killed outright
    leaves only the end of the pipe, which reads as EOF)."""
    try:
        return conn.recv() if conn.poll() else None
    except EOFError:
        return None


def _outcome(course: Course, assignment: str, job: Job, limit: int) -> tuple[Record, str] | None:
    """The record and log of a finished or overdue job, or None while it runs.

    Liveness is read before the pipe: a worker that reports and exits between the two reads still
    has its report in the pipe. Read the other way round, a busy parent took a worker that had just
    reported for one that died without a word, and failed a good submission.
    """
    alive, elapsed = job.proc.is_alive(), time.monotonic() - job.started
    report = _report(job.conn)
    if report is not None:
        job.proc.join()
        record, log = report
        if record is None:
            return _failed(course, assignment, job.student, GRADER_FAILED, elapsed), log
        return record, log
    if not alive:
        return _failed(course, assignment, job.student, explain("MemoryError"), elapsed), ""
    if elapsed > limit:
        _stop(job.proc, job.uid)
        return _failed(course, assignment, job.student,
                       f"the notebook ran longer than {limit} s and was stopped", elapsed), ""
    return None


def database_gone(exc: Exception) -> bool:
    """Whether `exc` is the gradebook server going away (nbgrader wraps some of its errors in
    InvalidEntry): that stops the batch, as no other student could be recorded either."""
    return isinstance(exc, OperationalError) or (
        isinstance(exc, InvalidEntry) and isinstance(exc.__context__, OperationalError))


def _settle(course: Course, assignment: str, job: Job, limits: sandbox.GradingLimits,
            verbose: bool) -> Record | None:
    """The record of a job that is over, saved with its log; None while it runs.

    Whatever fails here (the gradebook, the fingerprint, the disk) is this submission's failure
    alone: it gets a failed record and the batch goes on.
    """
    try:
        outcome = _outcome(course, assignment, job, limits.notebook_seconds)
        if outcome is None:
            return None
        record, log = outcome
        sandbox.reap(job.uid)
        record.submission_sha256 = intake.fingerprint(job.folder, limits.submission_bytes)
        records.save(course, record)
        records.write_log(course, record, log, verbose)
        return record
    except Exception as exc:
        if database_gone(exc):
            raise
        return _grader_failed(course, assignment, job, traceback.format_exc())


def _grader_failed(course: Course, assignment: str, job: Job, trace: str) -> Record:
    """A failed record for a job the grader failed on, kept as far as the fault lets it: a disk that
    refuses the record still leaves it in this run's results, and a re-run grades it again."""
    uid = job.uid
    record = Record(job.student, assignment, FAILED, reason=GRADER_FAILED,
                    seconds=round(time.monotonic() - job.started, 2),
                    layers=sandbox.describe_layers(sandbox.GradingLimits()))
    steps = [(_stop, job.proc, uid) if job.proc.exitcode is None else (sandbox.reap, uid),
             (_zeroed, course, record), (records.save, course, record),
             (records.write_log, course, record, trace, True)]
    for step, *args in steps:
        try:
            step(*args)
        except Exception as exc:
            if database_gone(exc):
                raise
            print(f"grading {job.student}: {step.__name__} failed too ({type(exc).__name__}: {exc})",
                  file=sys.stderr)
    return record


def _zeroed(course: Course, record: Record) -> None:
    """The record's submission in the gradebook with 0 for its autograded cells, and its scores."""
    zero_autograded(course, record.assignment, record.student)
    record.score, record.max_score = scores(course, record.assignment, record.student)


def run_jobs(course: Course, assignment: str, todo: list[tuple[str, Path]], jobs: int,
             on_graded: OnGraded | None = None, verbose: bool = False) -> list[Record]:
    """Grade `todo` in up to `jobs` workers at once; every submission comes back as a record."""
    ctx = multiprocessing.get_context("fork")
    limits = sandbox.GradingLimits(config=course.config())
    pending, running, done = list(todo), {}, []
    while pending or running:
        for slot in [s for s in range(jobs) if s not in running][:len(pending)]:
            student, folder = pending.pop(0)
            parent, child = ctx.Pipe(duplex=False)
            uid = sandbox.submission_uid()  # never another student's: what one leaves cannot wait for the next
            proc = ctx.Process(target=_worker, args=(course, assignment, student, folder, uid, child))
            proc.start()
            child.close()  # the worker holds the only writing end: its death reads as EOF
            running[slot] = Job(proc, parent, student, folder, time.monotonic(), uid)
        for slot, job in list(running.items()):
            record = _settle(course, assignment, job, limits, verbose)
            if record is None:
                continue
            done.append(record)
            del running[slot]
            if on_graded:
                on_graded(record, len(done), len(todo))
        time.sleep(0.05)
    return done


def already_graded(course: Course, assignment: str, student: str, folder: Path, max_bytes: int) -> bool:
    """A re-run skips a submission whose record matches the files on disk (a record that cannot be
    read is graded again)."""
    try:
        previous = records.load(course, assignment, student)
    except (OSError, ValueError, TypeError):
        return False
    return previous is not None and previous.submission_sha256 == intake.fingerprint(folder, max_bytes)


def git_folders(root: Path) -> list[Path]:
    """The course's history (solutions in every commit): .git, and, in a worktree where .git is a
    file, the folders it points to."""
    dot = root / ".git"
    if not dot.exists():
        return []
    if not shutil.which("git"):
        return [dot]
    named = subprocess.run(["git", "-C", str(root), "rev-parse", "--absolute-git-dir", "--git-common-dir"],
                           capture_output=True, text=True)
    return [dot] + ([root / line for line in named.stdout.split("\n") if line] if named.returncode == 0 else [])


def inboxes(submissions: Path) -> list[Path]:
    """Where the submissions really are: the folder, and the targets of student folders that are links."""
    return sorted({submissions.resolve()} | {p.resolve().parent for p in submissions.iterdir() if p.is_dir()})


def prepare(course: Course, assignment: str, submissions: Path) -> Course:
    """The gradebook knows the assignment, every variant's data is on disk and the secrets are locked."""
    course = grading_course(course)
    with setup_lock(course):
        build.release(course, assignment)
        variants.prepare(course, assignment)
    lock_secrets(course, inboxes(submissions))
    return course


def lock_secrets(course: Course, inboxes: list[Path]) -> None:
    """What no kernel may read: the sources and solutions (hidden tests in both), the course's tests
    and history, the gradebook, every submission and what grading made of it."""
    work = course.work
    secrets = [course.source_dir, course.solutions_dir, course.root / "tests", course.dir_of("submitted"),
               course.dir_of("feedback"), work / "records", work / "logs", work / "release"]
    sandbox.protect(secrets + git_folders(course.root), [work / "gradebook.db"],
                    traversable=[work, course.dir_of("autograded")], inboxes=inboxes)


def grade(course: Course, assignment: str, submissions: Path, force: bool = False, jobs: int = 1,
          shard: Shard | None = None, on_graded: OnGraded | None = None, verbose: bool = False) -> list[Record]:
    """Grade every student folder under `submissions` for one assignment (only those of `shard` if
    given); records in student order. `verbose` keeps nbgrader's warnings in the per-student logs."""
    course.check_assignment(assignment)
    if not submissions.is_dir():
        raise CourseError(f"no submissions folder {submissions}")
    if jobs < 1:
        raise CourseError("--jobs must be at least 1")
    course = prepare(course, assignment, submissions)
    max_bytes = sandbox.GradingLimits(config=course.config()).submission_bytes
    todo, skipped = [], []
    for student in students_in(submissions):
        if shard and not shard.has(student):
            continue
        folder = submissions / student / assignment
        if not STUDENT_ID.match(student):
            print(f"skipped folder {student!r}: not a valid student id")
        elif not force and already_graded(course, assignment, student, folder, max_bytes):
            skipped.append(records.load(course, assignment, student))
        else:
            todo.append((student, folder))
    try:
        graded = run_jobs(course, assignment, todo, jobs, on_graded, verbose)
    except (OperationalError, InvalidEntry) as exc:
        raise database_lost(exc) from exc
    return sorted(skipped + graded, key=lambda r: r.student)


def database_lost(exc: Exception) -> Exception:
    """The gradebook server went away mid-run (nbgrader wraps some of its errors in InvalidEntry):
    one clear line for the grader; what was already recorded is committed and stays."""
    if not database_gone(exc):
        return exc
    lost = exc if isinstance(exc, OperationalError) else exc.__context__
    reason = str(lost.orig or lost).splitlines()[0]
    return CourseError(f"the gradebook database stopped answering ({reason}); grading stopped, the grades "
                       "recorded so far are kept and a re-run grades the rest")
