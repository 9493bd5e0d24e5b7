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
import signal
import sys
import time
import traceback
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Callable, NamedTuple

import psutil
from nbgrader.api import InvalidEntry, MissingEntry
from sqlalchemy.exc import OperationalError

from . import build, guard, intake, judge, records, variants, warm
from .sandbox import layers, processes
from .course import STUDENT_ID, Course, CourseError
from .nbgrader_api import api_for, failure_summary, gradebook_for
from .sandbox.policy import Policy
from .records import FAILED, GRADED, REJECTED, Record
from .shard import Shard, setup_lock, writing_lock

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


def grade_one(course: Course, api, assignment: str, student: str, policy: Policy,
              checked: intake.Intake) -> tuple[Record, str]:
    """Autograde one checked and staged submission; returns its record (its time is the parent's to
    count, from the submission's turn) and nbgrader's log."""
    mounted = guard.student_policy(course, policy, assignment, student)   # the variant's data, as the kernel's
    record = Record(student, assignment, GRADED, notes=checked.notes, timestamp=checked.timestamp,
                    submission_sha256=checked.sha256, layers=layers.describe_layers(mounted))
    log = ""
    with writing_lock(course):
        if not checked.ok:
            record.status, record.reason = REJECTED, checked.reason
            zero_autograded(course, assignment, student)
        else:
            result = api.autograde(assignment, student, force=True, create=True)
            log = result.get("log", "") + result.get("error", "")
            record.notes += guard.take_notes()
            if not result["success"]:
                record.status, record.reason = FAILED, explain(failure_summary(result))
                record.stopped = guard.take_stop()
                zero_autograded(course, assignment, student)
            else:
                record.variant, record.flags = variants.flags(course, assignment, student)
        record.score, record.max_score = scores(course, assignment, student)
    return record, log


def _worker(course: Course, assignment: str, student: str, folder: Path, policy: Policy, conn, turn,
            stack: tuple[str, ...]) -> None:
    """Runs in a forked process: one submission, its own process group, its own sandbox uid (in the
    policy, which nbgrader hands to GuardedExecute). Its kernel starts at once (warm.py); the
    notebook runs when the parent gives the submission its `turn`."""
    os.setpgrp()
    memory = policy.limits.memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        api = api_for(course, policy)
        checked = intake.check(course, assignment, folder, policy.limits.submission_bytes)
        if checked.ok:
            intake.stage(course, assignment, student, checked)
        warmed = warm.start(course, api.config, policy, assignment, student, checked, stack)
        turn.wait()
        record, log = grade_one(course, api, assignment, student, policy, checked)
        conn.send((record, "\n".join(filter(None, [warmed, log]))))
    except BaseException as exc:  # the worker must report, whatever the notebook did to it
        conn.send((None, traceback.format_exc()))


def _stop(proc, policy: Policy) -> None:
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
    processes.reap(policy.uid, policy.layers)


def _failed(course: Course, assignment: str, job: Job, reason: str, seconds: float) -> Record:
    record = Record(job.student, assignment, FAILED, reason=reason, seconds=round(seconds, 2),
                    layers=layers.describe_layers(job.policy))
    _zeroed(course, record)
    return record


class Job(NamedTuple):
    """One submission being graded in a worker."""
    proc: BaseProcess
    conn: Connection  # the reading end of the worker's pipe
    student: str
    folder: Path
    started: float
    policy: Policy  # with the sandbox uid of this submission's kernel
    turn: Event  # set when the submission's notebook may run (its kernel may start before)


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
            return _failed(course, assignment, job, GRADER_FAILED, elapsed), log
        return record, log
    if not alive:
        return _failed(course, assignment, job, explain("MemoryError"), elapsed), ""
    if elapsed > limit:
        _stop(job.proc, job.policy)
        return _failed(course, assignment, job,
                       f"the notebook ran longer than {limit} s and was stopped", elapsed), ""
    return None


def database_gone(exc: Exception) -> bool:
    """Whether `exc` is the gradebook server going away (nbgrader wraps some of its errors in
    InvalidEntry): that stops the batch, as no other student could be recorded either."""
    return isinstance(exc, OperationalError) or (
        isinstance(exc, InvalidEntry) and isinstance(exc.__context__, OperationalError))


def _settle(course: Course, assignment: str, job: Job, verbose: bool) -> Record | None:
    """The record of a job that is over, saved with its log; None while it runs.

    Whatever fails here (the gradebook, the fingerprint, the disk) is this submission's failure
    alone: it gets a failed record and the batch goes on.
    """
    try:
        outcome = _outcome(course, assignment, job, job.policy.limits.notebook_seconds)
        if outcome is None:
            return None
        record, log = outcome
        record.seconds = round(time.monotonic() - job.started, 2)   # from its turn: a kernel still starting counts
        processes.reap(job.policy.uid, job.policy.layers)
        record.submission_sha256 = intake.fingerprint(job.folder, job.policy.limits.submission_bytes)
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
    policy = job.policy
    record = Record(job.student, assignment, FAILED, reason=GRADER_FAILED,
                    seconds=round(time.monotonic() - job.started, 2), layers=layers.describe_layers(policy))
    steps = [(_stop, job.proc, policy) if job.proc.exitcode is None else (processes.reap, policy.uid, policy.layers),
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
    with writing_lock(course):
        zero_autograded(course, record.assignment, record.student)
        record.score, record.max_score = scores(course, record.assignment, record.student)


def run_jobs(course: Course, policy: Policy, assignment: str, todo: list[tuple[str, Path]], jobs: int,
             on_graded: OnGraded | None = None, verbose: bool = False) -> list[Record]:
    """Grade `todo` in up to `jobs` workers at once; every submission comes back as a record. Each
    slot also holds the worker of its next submission, whose kernel starts while it waits (warm.py):
    its time and its time limit count from its turn."""
    ctx = multiprocessing.get_context("fork")
    stack = warm.modules(course, assignment)
    pending, running, waiting, done = list(todo), {}, {}, []
    try:
        while pending or running or waiting:
            for slot in range(jobs):
                if slot not in running and (slot in waiting or pending):
                    job = waiting.pop(slot, None) or _fork(ctx, course, policy, assignment, pending.pop(0), stack)
                    job.turn.set()
                    running[slot] = job._replace(started=time.monotonic())
                if slot not in waiting and pending:
                    waiting[slot] = _fork(ctx, course, policy, assignment, pending.pop(0), stack)
            for slot, job in list(running.items()):
                record = _settle(course, assignment, job, verbose)
                if record is None:
                    continue
                done.append(record)
                del running[slot]
                if on_graded:
                    on_graded(record, len(done), len(todo))
            time.sleep(0.05)
    finally:
        for job in waiting.values():   # only when the run stopped early (the gradebook gone)
            _stop(job.proc, job.policy)
    return done


def _fork(ctx, course: Course, policy: Policy, assignment: str, submission: tuple[str, Path],
          stack: tuple[str, ...]) -> Job:
    """The worker of one submission, started; it waits for its turn."""
    student, folder = submission
    parent, child = ctx.Pipe(duplex=False)
    # A uid never another student's: what one leaves cannot wait for the next.
    own = policy.for_submission(processes.submission_uid())
    turn = ctx.Event()
    proc = ctx.Process(target=_worker, args=(course, assignment, student, folder, own, child, turn, stack))
    proc.start()
    child.close()  # the worker holds the only writing end: its death reads as EOF
    return Job(proc, parent, student, folder, time.monotonic(), own, turn)


def already_graded(course: Course, assignment: str, student: str, folder: Path, max_bytes: int) -> bool:
    """A re-run skips a submission whose record matches the files on disk (a record that cannot be
    read is graded again)."""
    try:
        previous = records.load(course, assignment, student)
    except (OSError, ValueError, TypeError):
        return False
    return previous is not None and previous.submission_sha256 == intake.fingerprint(folder, max_bytes)


def prepare(course: Course, assignment: str) -> Course:
    """The gradebook knows the assignment and every variant's data is on disk (each kernel's start
    locks the secrets, guard.py)."""
    course = grading_course(course)
    with setup_lock(course):
        build.release(course, assignment)
        variants.prepare(course, assignment)
    return course


def grade(course: Course, assignment: str, submissions: Path, force: bool = False, jobs: int = 1,
          shard: Shard | None = None, on_graded: OnGraded | None = None, verbose: bool = False) -> list[Record]:
    """Grade every student folder under `submissions` for one assignment (only those of `shard` if
    given); records in student order. `verbose` keeps nbgrader's warnings in the per-student logs."""
    course.check_assignment(assignment)
    if not submissions.is_dir():
        raise CourseError(f"no submissions folder {submissions}")
    if jobs < 1:
        raise CourseError("--jobs must be at least 1")
    course = prepare(course, assignment)
    judge.preload_checks(course, assignment)
    policy = Policy.of(course)  # once per run: every worker gets it, with a uid of its submission's own
    max_bytes = policy.limits.submission_bytes
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
        graded = run_jobs(course, policy, assignment, todo, jobs, on_graded, verbose)
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
