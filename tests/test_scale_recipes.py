"""The Kubernetes and GitHub Actions recipes of "Grading at scale", read as their engines read them: each
shard's command line, once the engine has filled in its index, is one our CLI accepts, and the N
commands name the N shards 0/N .. N-1/N exactly once. No cluster or runner is needed: the grading those
commands do is what test_shard.py and test_postgres.py run locally.
"""
from __future__ import annotations

import os
import subprocess

import yaml

from autograder import cli
from autograder.course import REPO

K8S = REPO / "autograder" / "k8s"
WORKFLOW = REPO / ".github" / "workflows" / "grade-sharded.yml"
CLI = "python -m autograder"
DATABASE = {"GRADEBOOK_URL": "postgresql+psycopg://grader@postgres/gradebook"}


def argv_of(script: str, prefix: str, env: dict[str, str]) -> list[str]:
    """The arguments the shell passes to `prefix` in `script`, with `env` set: the shell expands them."""
    assert prefix in script, f"{prefix!r} not in {script!r}"
    echo = script.replace(f"exec {prefix}", prefix).replace(prefix, "printf '%s\\0'")
    out = subprocess.run(["sh", "-c", echo], env={**os.environ, **env}, capture_output=True, check=True)
    return out.stdout.decode().split("\0")[:-1]


def container_of(path):
    job = yaml.safe_load(path.read_text())
    [container] = job["spec"]["template"]["spec"]["containers"]
    return job, container


def test_kubernetes_indexed_job_runs_each_shard_once():
    job, container = container_of(K8S / "grade-indexed-job.yaml")
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    shards = int(env["SHARDS"])
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == shards
    script = " ".join(container["args"])
    seen = []
    for index in range(shards):
        argv = argv_of(script, CLI, {**env, **DATABASE, "JOB_COMPLETION_INDEX": str(index)})
        args = cli.parser().parse_args(argv)
        assert (args.verb, args.assignment, args.db_url) == ("grade", env["ASSIGNMENT"], DATABASE["GRADEBOOK_URL"])
        seen.append(args.shard)
    assert seen == [f"{i}/{shards}" for i in range(shards)]


def test_kubernetes_merge_job_merges_into_the_same_gradebook():
    _, grader = container_of(K8S / "grade-indexed-job.yaml")
    _, merger = container_of(K8S / "merge-job.yaml")
    grade = cli.parser().parse_args(argv_of(" ".join(grader["args"]), CLI, {
        **DATABASE, "ASSIGNMENT": "01-regression", "SHARDS": "2", "JOB_COMPLETION_INDEX": "0"}))
    merge = cli.parser().parse_args(argv_of(merger["command"][2], CLI, DATABASE))
    assert merge.verb == "merge"
    assert (merge.workdir, merge.db_url) == (grade.workdir, grade.db_url)
    assert grader["image"] == merger["image"]


def test_actions_matrix_grades_each_shard_once_then_merges():
    flow = yaml.safe_load(WORKFLOW.read_text())
    grade, merge = flow["jobs"]["grade"], flow["jobs"]["merge"]
    shards = int(grade["env"]["SHARDS"])
    assert grade["strategy"]["matrix"]["shard"] == list(range(shards))
    [step] = [s for s in grade["steps"] if "autograder grade" in s.get("run", "")]
    seen = []
    for index in grade["strategy"]["matrix"]["shard"]:
        script = (step["run"].replace("${{ matrix.shard }}", str(index))
                  .replace("${{ inputs.assignment }}", "01-regression")
                  .replace("${{ inputs.submissions }}", "submissions"))
        args = cli.parser().parse_args(argv_of(script, "sudo -E .venv/bin/python -m autograder",
                                               {"SHARDS": str(shards)}))
        assert (args.verb, args.assignment, args.submissions) == ("grade", "01-regression", "submissions")
        seen.append(args.shard)
    assert seen == [f"{i}/{shards}" for i in range(shards)]
    assert merge["needs"] == "grade"
    assert any(s.get("run", "").endswith("-m autograder merge") for s in merge["steps"])
