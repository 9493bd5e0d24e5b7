"""Submitting a sharded grading run to SLURM, and resubmitting the shards that did not finish.

SLURM without accounting (slurmdbd) forgets a finished job a few minutes after it ends, and a
cancelled or failed task says nothing itself: the shards' own manifests are the record. A shard is
done when its manifest exists, waiting or running while squeue lists its task, and otherwise it
failed, was cancelled or ran out of time (its log says which): resubmit its array index. The merge
job waits with afterok, so a missing shard leaves it pending (DependencyNeverSatisfied), never
merging a partial class. The run's job ids are kept in slurm.json next to the shard folders.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import grading, shard as shards
from ..course import Course, CourseError
from ..sandbox.policy import GradingLimits
from . import resources

HERE = Path(__file__).resolve().parent
GRADE_SCRIPT = HERE / "grade-array.sbatch"
MERGE_SCRIPT = HERE / "merge.sbatch"
STATE = "slurm.json"
DONE, FAILED = "done", "failed or cancelled"


@dataclass
class Run:
    """One sharded run of an assignment as submitted: what to grade and the SLURM ids."""

    assignment: str
    shards: int
    submissions: str
    jobs: int
    tasks: dict[int, str]   # shard index -> SLURM task id, <array job id>_<index>
    merge: str


def folder(course: Course, assignment: str) -> Path:
    """Where the shards, their SLURM logs and slurm.json live."""
    return course.work / "shards" / assignment


def save(course: Course, run: Run) -> None:
    (folder(course, run.assignment) / STATE).write_text(json.dumps(asdict(run), indent=1))


def load(course: Course, assignment: str) -> Run:
    path = folder(course, course.check_assignment(assignment)) / STATE
    if not path.is_file():
        raise CourseError(f"no SLURM run of {assignment} in {path.parent}: submit one with slurm-submit")
    state = json.loads(path.read_text())
    return Run(**{**state, "tasks": {int(i): t for i, t in state["tasks"].items()}})


def sbatch(options: list[str], script: Path, env: dict[str, str]) -> str:
    """Submit; the job id (--parsable prints `id` or `id;cluster`)."""
    out = subprocess.run(["sbatch", "--parsable", *options, str(script)], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise CourseError(f"sbatch {script.name}: {out.stderr.strip()}")
    return out.stdout.strip().split(";")[0]


def job_env(course: Course, run: Run) -> dict[str, str]:
    """What the scripts read, on top of the submitter's environment (sbatch's default --export=ALL,
    so SBATCH_PARTITION, SBATCH_ACCOUNT and the like apply too)."""
    return {**os.environ, "ASSIGNMENT": run.assignment, "SUBMISSIONS": run.submissions, "SHARDS": str(run.shards),
            "WORKDIR": str(course.work), "PYTHON": sys.executable}


def largest_shard(submissions: Path, count: int) -> int:
    students = grading.students_in(submissions)
    return max(sum(shards.Shard(i, count).has(s) for s in students) for i in range(count))


def grade_options(course: Course, run: Run, indices: list[int]) -> list[str]:
    """The array of `indices`, sized from the grading limits for the largest shard."""
    limits = GradingLimits.from_config(course.config())
    size = resources.shard_task(limits, run.jobs, largest_shard(Path(run.submissions), run.shards))
    return [f"--array={','.join(map(str, indices))}", *size.options(), f"--chdir={course.root}",
            f"--output={folder(course, run.assignment)}/slurm-%A_%a.out"]


def submit_merge(course: Course, run: Run, after: list[str]) -> str:
    """The merge job, held until every task in `after` (job or task ids) has succeeded."""
    size = resources.merge_task(len(grading.students_in(Path(run.submissions))))
    options = [f"--dependency=afterok:{':'.join(after)}", *size.options(), f"--chdir={course.root}",
               f"--output={folder(course, run.assignment)}/slurm-%j-merge.out"]
    return sbatch(options, MERGE_SCRIPT, job_env(course, run))


def submit(course: Course, assignment: str, submissions: Path, count: int, jobs: int) -> Run:
    """The array of `count` shards and the merge after it. Manifests of an earlier run with as many
    shards are removed first: only this run's shards may count as done."""
    course.check_assignment(assignment)
    if not submissions.is_dir():
        raise CourseError(f"no submissions folder {submissions}")
    if count < 1 or jobs < 1:
        raise CourseError("--shards and --jobs must be at least 1")
    run = Run(assignment, count, str(submissions.resolve()), jobs, {}, "")
    folder(course, assignment).mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (shards.Shard(index, count).folder(course, assignment) / shards.MANIFEST).unlink(missing_ok=True)
    array = sbatch(grade_options(course, run, list(range(count))), GRADE_SCRIPT, job_env(course, run))
    run.tasks = {i: f"{array}_{i}" for i in range(count)}
    run.merge = submit_merge(course, run, [array])
    save(course, run)
    return run


def queue() -> dict[str, str]:
    """Every job or array task of this user SLURM still holds: id -> state (reason)."""
    out = subprocess.run(["squeue", "--me", "--noheader", "--array", "--format=%i %T %r"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise CourseError(f"squeue: {out.stderr.strip()}")
    rows = (line.split(maxsplit=2) for line in out.stdout.splitlines() if line.strip())
    return {row[0]: f"{row[1]} ({row[2]})" if len(row) > 2 and row[2] != "None" else row[1] for row in rows}


def shard_states(course: Course, run: Run, queued: dict[str, str]) -> dict[int, str]:
    """Each shard's state: done, its queue state, or failed or cancelled."""
    def state(index: int) -> str:
        if (shards.Shard(index, run.shards).folder(course, run.assignment) / shards.MANIFEST).is_file():
            return DONE
        return queued.get(run.tasks[index], FAILED)
    return {index: state(index) for index in range(run.shards)}


def resubmit(course: Course, run: Run) -> list[int]:
    """Resubmit the shards that failed or were cancelled, as one array of their indices, and replace
    the merge (pending forever on its failed dependency) by one that waits for every unfinished
    task. Returns the indices resubmitted (none: nothing is submitted)."""
    states = shard_states(course, run, queue())
    failed = [i for i, s in states.items() if s == FAILED]
    if not failed:
        return []
    array = sbatch(grade_options(course, run, failed), GRADE_SCRIPT, job_env(course, run))
    run.tasks.update({i: f"{array}_{i}" for i in failed})
    subprocess.run(["scancel", run.merge], capture_output=True)   # gone already is fine
    run.merge = submit_merge(course, run, [run.tasks[i] for i, s in states.items() if s != DONE])
    save(course, run)
    return failed


def describe(course: Course, run: Run, queued: dict[str, str] | None = None) -> str:
    """Job ids, where the logs and the merged gradebook are; with the queue, each shard's state,
    the merge's, and what to resubmit."""
    logs = folder(course, run.assignment)
    array_ids = sorted({t.split("_")[0] for t in run.tasks.values()})
    lines = [f"{run.assignment}: {run.shards} shards, array job(s) {', '.join(array_ids)}, "
             f"merge job {run.merge} (runs when every shard succeeded)",
             f"logs:      {logs}/slurm-*.out",
             f"gradebook: {course.work / 'gradebook.db'}",
             f"feedback:  {course.dir_of('feedback')}/<student>/{run.assignment}/"]
    if queued is None:
        return "\n".join(lines)
    states = shard_states(course, run, queued)
    lines += [f"shard {i}/{run.shards} ({run.tasks[i]}): {s}" for i, s in states.items()]
    lines.append(f"merge job {run.merge}: {queued.get(run.merge, 'not queued (ended)')}")
    failed = [str(i) for i, s in states.items() if s == FAILED]
    if failed:
        lines.append(f"resubmit array index {','.join(failed)} (why: {logs}/slurm-<job>_<index>.out): "
                     f"python -m autograder --workdir {course.work} slurm-submit {run.assignment} --resubmit")
    return "\n".join(lines)
