"""Grading on a real SLURM (issue 21): a private one-node cluster (munged, slurmctld, slurmd, with a
config in a temporary folder and ports of its own) runs the recipe of autograder/slurm/ through
`python -m autograder slurm-submit`, and the merged class must be what one machine grades: every
grade, record and feedback file. Then one shard of a second run is cancelled: the merge must wait,
the status must name the array index, and resubmitting it must complete the same class.

Needs root (slurmd starts jobs as their user; munged runs as the munge user) and Debian's slurm-wlm
and munge; skips, saying which is missing, without them.
"""
from __future__ import annotations

import html
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from autograder import cli, demo, shard as shards
from autograder.course import REPO, Course
from autograder.sandbox.policy import GradingLimits
from autograder.slurm import jobs, resources

from gradebook_view import record_table, snapshot

pytestmark = pytest.mark.xdist_group("slurm")

ASSIGNMENT = "00-python-warmup"
SHARDS = 3
# six of the demo's ten: two students in each of the three shards
LEFT_OUT = ("gus-renamed", "hana-own-way", "ivan-copy", "jade-own-way")
SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
PROGRAMS = ("sbatch", "squeue", "scancel", "scontrol", "sinfo", "slurmctld", "slurmd", "munged", "mungekey")


def missing() -> str | None:
    """Why this machine cannot run the cluster, or None."""
    if os.geteuid() != 0:
        return "a private SLURM cluster needs root (slurmd runs jobs as their user, munged as munge)"
    absent = [p for p in PROGRAMS if not shutil.which(p, path=SBIN)]
    if absent:
        return f"SLURM is not installed (missing {', '.join(absent)}: apt-get install slurm-wlm munge)"
    try:
        pwd.getpwnam("munge")
    except KeyError:
        return "no munge user (apt-get install munge)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_munge(top: Path) -> tuple[list[str], Path]:
    """A key and a socket of our own, so that a munged the machine already runs is left alone."""
    munge = pwd.getpwnam("munge")
    home = top / "munge"
    home.mkdir()
    home.chmod(0o711)   # munged wants its socket's folder executable by every client
    os.chown(home, munge.pw_uid, munge.pw_gid)
    key = home / "munge.key"
    subprocess.run([shutil.which("mungekey", path=SBIN), "--create", f"--keyfile={key}"], check=True)
    os.chown(key, munge.pw_uid, munge.pw_gid)
    key.chmod(0o400)
    sock = home / "munge.socket"
    cmd = ["setpriv", f"--reuid={munge.pw_uid}", f"--regid={munge.pw_gid}", "--init-groups",
           shutil.which("munged", path=SBIN), "--foreground", f"--socket={sock}", f"--key-file={key}",
           f"--log-file={home / 'munged.log'}", f"--pid-file={home / 'munged.pid'}", f"--seed-file={home / 'seed'}"]
    return cmd, sock


def slurm_conf(top: Path, sock: Path) -> Path:
    """One node, this machine's two cores, memory scheduled as a consumable (CR_Core_Memory)."""
    host = socket.gethostname()
    for sub in ("state", "spool", "log"):
        (top / sub).mkdir()
    conf = top / "slurm.conf"
    conf.write_text("\n".join([
        "ClusterName=eds", f"SlurmctldHost={host}", f"SlurmctldPort={free_port()}", f"SlurmdPort={free_port()}",
        "AuthType=auth/munge", "CredType=cred/munge", f"AuthInfo=socket={sock}", "SlurmUser=root", "SlurmdUser=root",
        f"StateSaveLocation={top / 'state'}", f"SlurmdSpoolDir={top / 'spool'}",
        f"SlurmctldPidFile={top / 'slurmctld.pid'}", f"SlurmdPidFile={top / 'slurmd.pid'}",
        f"SlurmctldLogFile={top / 'log' / 'slurmctld.log'}", f"SlurmdLogFile={top / 'log' / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "MpiDefault=none", "MailProg=/bin/true",
        "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core_Memory", "ReturnToService=2",
        f"NodeName={host} CPUs=2 RealMemory=20000 State=UNKNOWN",
        f"PartitionName=grading Nodes={host} Default=YES MaxTime=INFINITE State=UP", ""]))
    return conf


def wait_for(check, seconds: float, what: str):
    """Poll `check` until it returns something true; its last value in the failure message."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(0.5)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def cluster():
    """The environment every SLURM client needs (SLURM_CONF) while the three daemons run; each
    daemon is stopped by its own process, on failure too."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    top = Path(tempfile.mkdtemp(prefix="eds-slurm-"))
    top.chmod(0o755)   # the munge user reaches its folder below
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, top, ignore_errors=True)
        munged, sock = start_munge(top)
        stack.callback(stop, subprocess.Popen(munged, stderr=subprocess.DEVNULL))
        wait_for(sock.exists, 10, "munged's socket")
        env = {**os.environ, "SLURM_CONF": str(slurm_conf(top, sock))}
        for daemon in ("slurmctld", "slurmd"):
            proc = subprocess.Popen([shutil.which(daemon, path=SBIN), "-D", "-f", env["SLURM_CONF"]], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stack.callback(stop, proc)
        wait_for(lambda: subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True,
                                        text=True).stdout.strip() == "idle", 30,
                 f"the node to be idle (logs in {top / 'log'})")
        yield env


def autograder(env: dict[str, str], *args: str) -> str:
    """`python -m autograder`, as the README says to run it; its output (it must succeed)."""
    out = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=REPO, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("class") / "submissions"
    demo.build_class(Course(), ASSIGNMENT, folder)
    for student in LEFT_OUT:
        shutil.rmtree(folder / student)
    return folder


@pytest.fixture(scope="module")
def one_machine(submissions, tmp_path_factory) -> tuple[Course, float]:
    """`grade` then `feedback` on this machine, two at once: the reference, and its wall time."""
    work = tmp_path_factory.mktemp("one-machine")
    start = time.monotonic()
    autograder(dict(os.environ), "--workdir", str(work), "grade", ASSIGNMENT, "--submissions", str(submissions),
               "--jobs", "2")
    autograder(dict(os.environ), "--workdir", str(work), "feedback", ASSIGNMENT)
    return Course(workdir=work), time.monotonic() - start


def submit(env: dict[str, str], work: Path, submissions: Path) -> jobs.Run:
    autograder(env, "--workdir", str(work), "slurm-submit", ASSIGNMENT, "--submissions", str(submissions),
               "--shards", str(SHARDS), "--jobs", "1")
    return jobs.load(Course(workdir=work), ASSIGNMENT)


def queued(env: dict[str, str]) -> str:
    return subprocess.run(["squeue", "-h", "-r", "-o", "%i %T %r"], env=env, capture_output=True, text=True).stdout


def merged(env: dict[str, str], course: Course, run: jobs.Run) -> str:
    """Wait for the run's merge job to end; its log."""
    wait_for(lambda: run.merge not in queued(env).split(), 240, f"merge job {run.merge}")
    return (jobs.folder(course, ASSIGNMENT) / f"slurm-{run.merge}-merge.out").read_text()


@pytest.fixture(scope="module")
def sharded(cluster, submissions, tmp_path_factory) -> tuple[Course, jobs.Run, float, str]:
    """The class graded as 3 array tasks through sbatch and merged by the dependent job; its wall
    time from submission to the merged gradebook and feedback, and the merge job's log."""
    course = Course(workdir=tmp_path_factory.mktemp("slurm"))
    start = time.monotonic()
    run = submit(cluster, course.work, submissions)
    log = merged(cluster, course, run)
    return course, run, time.monotonic() - start, log


TAG = re.compile(r"<[^>]*>")


def readable(page: str) -> str:
    """What the student reads in a feedback page: its text, tags and spacing aside. Two runs of
    one machine differ below that: a test cell nbgrader restores gets a random cell id, and a
    kernel's print may arrive as one stream output or two."""
    return " ".join(html.unescape(TAG.sub(" ", page)).split())


def feedback_files(course: Course) -> dict:
    top = course.dir_of("feedback")
    return {str(p.relative_to(top)): readable(p.read_text()) for p in sorted(top.glob(f"*/{ASSIGNMENT}/*.html"))}


def same_class(course: Course, reference: Course) -> None:
    assert len(snapshot(reference, ASSIGNMENT)) == 6 and len(feedback_files(reference)) == 6
    assert snapshot(course, ASSIGNMENT) == snapshot(reference, ASSIGNMENT)
    assert record_table(course, ASSIGNMENT) == record_table(reference, ASSIGNMENT)
    assert feedback_files(course) == feedback_files(reference)


def test_sharded_run_on_slurm_equals_one_machine(sharded, one_machine, cluster, submissions):
    course, run, slurm_seconds, log = sharded
    reference, one_seconds = one_machine
    print(f"\nSLURM, {SHARDS} shards: {slurm_seconds:.1f} s; one machine, --jobs 2: {one_seconds:.1f} s")
    assert "merged 6 submissions" in log, log
    same_class(course, reference)
    assert all(json.loads((shards.Shard(i, SHARDS).folder(course, ASSIGNMENT) / shards.MANIFEST).read_text())
               ["graded"] == 2 for i in range(SHARDS))


def test_each_task_asks_for_what_the_grading_limits_need(sharded, cluster):
    _, run, _, _ = sharded
    need = resources.shard_task(GradingLimits.from_config(Course().config()), jobs=1, students=2)
    job = subprocess.run(["scontrol", "show", "job", run.tasks[0]], env=cluster, capture_output=True,
                         text=True).stdout
    amount, unit = re.search(r"MinMemoryNode=(\d+)([MGT])", job).groups()
    assert int(amount) * {"M": 1, "G": 1024, "T": 1024**2}[unit] == need.memory_mib, job
    assert f"MinCPUsNode={need.cores}" in job, job
    assert f"TimeLimit={need.minutes // 60:02d}:{need.minutes % 60:02d}:00" in job, job


def settled(env: dict[str, str], course: Course) -> str | None:
    """The status once the two shards that were not cancelled are done."""
    out = autograder(env, "--workdir", str(course.work), "slurm-submit", ASSIGNMENT, "--status")
    return out if out.count(f": {jobs.DONE}") == 2 else None


def reuse_shards(sharded, tmp_path_factory, name: str) -> Course:
    """A new working folder holding only the first run's shard folders: no merged gradebook,
    records, copies or feedback, so that whatever the course ends up with was merged again."""
    course = Course(workdir=tmp_path_factory.mktemp(name))
    shutil.copytree(jobs.folder(sharded[0], ASSIGNMENT), jobs.folder(course, ASSIGNMENT), symlinks=True)
    return course


def test_cancelled_shard_holds_the_merge_until_resubmitted(sharded, cluster, submissions, one_machine,
                                                         tmp_path_factory):
    """Shards 0 and 2 find their students graded (as a re-run after a failure does); shard 1's
    folder is gone, so its resubmission grades its two students again."""
    course = reuse_shards(sharded, tmp_path_factory, "slurm-cancelled")
    shutil.rmtree(shards.Shard(1, SHARDS).folder(course, ASSIGNMENT))
    run = submit(cluster, course.work, submissions)
    subprocess.run(["scancel", run.tasks[1]], env=cluster, check=True)
    held = wait_for(lambda: settled(cluster, course), 180, "shards 0 and 2 to finish")
    assert f"shard 1/3 ({run.tasks[1]}): {jobs.FAILED}" in held and "resubmit array index 1 " in held, held
    # slurmctld marks the dependency as never satisfied at its next scheduling pass, not at once
    never = f"merge job {run.merge}: PENDING (DependencyNeverSatisfied)"
    wait_for(lambda: never in (settled(cluster, course) or ""), 120, "the merge job to be held for good")
    old_merge = run.merge
    out = autograder(cluster, "--workdir", str(course.work), "slurm-submit", ASSIGNMENT, "--resubmit")
    assert "resubmitted array index 1;" in out, out
    run = jobs.load(course, ASSIGNMENT)
    assert run.merge != old_merge and old_merge not in queued(cluster).split()
    assert "merged 6 submissions" in merged(cluster, course, run)
    assert not (jobs.folder(course, ASSIGNMENT) / f"slurm-{old_merge}-merge.out").exists()
    same_class(course, one_machine[0])


def test_merge_job_refuses_shards_of_another_assignment(sharded, cluster, tmp_path_factory):
    """The recipe's merge script run alone on a tampered set: it fails, saying why, as `merge` does."""
    course = reuse_shards(sharded, tmp_path_factory, "slurm-mixed")
    manifest = shards.Shard(2, SHARDS).folder(course, ASSIGNMENT) / shards.MANIFEST
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "assignment": "01-regression"}))
    env = {**cluster, "ASSIGNMENT": ASSIGNMENT, "SHARDS": str(SHARDS), "WORKDIR": str(course.work),
           "PYTHON": sys.executable}
    log = jobs.folder(course, ASSIGNMENT) / "refused.out"
    job = subprocess.run(["sbatch", "--parsable", f"--output={log}", f"--chdir={REPO}", str(jobs.MERGE_SCRIPT)],
                         env=env, capture_output=True, text=True, check=True).stdout.strip()
    wait_for(lambda: job not in queued(cluster).split(), 60, f"merge job {job}")
    assert "shards of different assignments" in log.read_text(), log.read_text()


def recipe_argv(script: Path, tmp_path: Path, env: dict[str, str]) -> list[str]:
    """The arguments each line of a recipe passes to `python -m autograder`, with SLURM's variables
    set as sbatch sets them: a stand-in Python prints them. No cluster needed."""
    stub = tmp_path / "python"
    stub.write_text("#!/bin/sh\nprintf '%s\\0' \"$@\"; printf '\\n'\n")
    stub.chmod(0o755)
    out = subprocess.run(["bash", str(script)], env={**os.environ, **env, "PYTHON": str(stub)},
                         capture_output=True, text=True, check=True).stdout
    return [line.split("\0")[:-1] for line in out.splitlines()]


@pytest.mark.parametrize("count, shards", [("3", None), ("1", "3")], ids=["array", "resubmitted"])
def test_array_task_grades_its_shard_of_n(tmp_path, count, shards):
    """Task 1 of the full array, and index 1 resubmitted alone (SLURM_ARRAY_TASK_COUNT 1, SHARDS 3)."""
    env = {"ASSIGNMENT": ASSIGNMENT, "SUBMISSIONS": "/s", "WORKDIR": "/w", "SLURM_ARRAY_TASK_ID": "1",
           "SLURM_ARRAY_TASK_COUNT": count, "SLURM_CPUS_PER_TASK": "2", **({"SHARDS": shards} if shards else {})}
    [argv] = recipe_argv(jobs.GRADE_SCRIPT, tmp_path, env)
    args = cli.parser().parse_args(argv[2:])
    assert argv[:2] == ["-m", "autograder"]
    assert (args.verb, args.assignment, args.submissions, args.workdir) == ("grade", ASSIGNMENT, "/s", "/w")
    assert (args.shard, args.jobs) == ("1/3", 2)


def test_merge_job_merges_each_shard_then_writes_feedback(tmp_path):
    env = {"ASSIGNMENT": ASSIGNMENT, "SHARDS": "3", "WORKDIR": "/w"}
    merge, feedback = (cli.parser().parse_args(argv[2:]) for argv in recipe_argv(jobs.MERGE_SCRIPT, tmp_path, env))
    assert merge.verb == "merge" and merge.shards == [f"/w/shards/{ASSIGNMENT}/{i}-of-3" for i in range(3)]
    assert (feedback.verb, feedback.assignments, feedback.workdir) == ("feedback", [ASSIGNMENT], "/w")


def test_resources_follow_the_grading_limits():
    limits = GradingLimits(memory_bytes=4 * 1024**3, notebook_seconds=600)
    assert resources.shard_task(limits, jobs=2, students=5) == resources.Resources(
        cores=2, memory_mib=2 * 4096 + resources.GRADER_MIB, minutes=resources.SETUP_MINUTES + 3 * 10)
